"""End to end against the real llama.cpp server (SmolLM2-135M): record with ``--record``, then
replay with no server and no network, and compare what the openai SDK gave the test.

The suite runs under openai 2.x (httpx) and openai 3.x (httpx2): .ci/run runs it in both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.engines.llama_cpp_python import LlamaServer
from replay.store.layout import scope_folder
from tests.conftest import BLOCK_NETWORK, recording_files

pytestmark = pytest.mark.real_server

APP_TESTS = '''
import asyncio
import json
import os
from pathlib import Path

import pytest

LIVE = Path(os.environ["LIVE_DIR"])
CHAT = [{"role": "user", "content": "Tell me a joke"}]


def same_as_live(llm_replay, name, value):
    """Record mode keeps what the live server gave; replay mode must give the same."""
    path = LIVE / f"{name}.json"
    if llm_replay.mode in ("record", "live"):
        path.write_text(json.dumps(value), encoding="utf-8")
    else:
        assert json.loads(path.read_text(encoding="utf-8")) == value


def test_chat_stream(llm_replay):
    client = llm_replay.openai()
    chunks = list(client.chat.completions.create(
        model=llm_replay.model, messages=CHAT, stream=True, temperature=0, max_tokens=24))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    same_as_live(llm_replay, "chat_stream", [text, [c.model_dump() for c in chunks]])


def test_chat(llm_replay):
    reply = llm_replay.openai().chat.completions.create(
        model=llm_replay.model, messages=CHAT, temperature=0, max_tokens=24)
    assert reply.choices[0].message.content.strip()
    same_as_live(llm_replay, "chat", reply.model_dump())


def test_completion_stream(llm_replay):
    chunks = list(llm_replay.openai().completions.create(
        model=llm_replay.model, prompt="The capital of France is", stream=True,
        temperature=0, max_tokens=16))
    text = "".join(c.choices[0].text for c in chunks)
    assert "Paris" in text
    same_as_live(llm_replay, "completion_stream", [text, [c.model_dump() for c in chunks]])


def test_completion(llm_replay):
    reply = llm_replay.openai().completions.create(
        model=llm_replay.model, prompt="The capital of France is", temperature=0, max_tokens=16)
    assert "Paris" in reply.choices[0].text
    same_as_live(llm_replay, "completion", reply.model_dump())


def test_embeddings(llm_replay):
    reply = llm_replay.openai().embeddings.create(model=llm_replay.model, input="hello world")
    assert reply.data and reply.data[0].embedding
    # llama.cpp sends one vector per token (a list of lists): no pydantic warning about it
    same_as_live(llm_replay, "embeddings", reply.model_dump(warnings=False))


def test_models(llm_replay):
    models = [m.model_dump() for m in llm_replay.openai().models.list()]
    assert [m["id"] for m in models] == [llm_replay.model]
    same_as_live(llm_replay, "models", models)


def test_async_every_endpoint(llm_replay):
    async def run():
        client = llm_replay.async_openai()
        stream = await client.chat.completions.create(
            model=llm_replay.model, messages=[{"role": "user", "content": "Name a colour"}],
            stream=True, temperature=0, max_tokens=16)
        chunks = [c async for c in stream]
        chat = await client.chat.completions.create(
            model=llm_replay.model, messages=[{"role": "user", "content": "Name a colour"}],
            temperature=0, max_tokens=16)
        completion_stream = await client.completions.create(
            model=llm_replay.model, prompt="One, two, three,", stream=True,
            temperature=0, max_tokens=8)
        completion_chunks = [c async for c in completion_stream]
        reply = await client.completions.create(
            model=llm_replay.model, prompt="One, two, three,", temperature=0, max_tokens=8)
        models = [m async for m in client.models.list()]
        embedding = await client.embeddings.create(model=llm_replay.model, input="async")
        await client.close()
        return chunks, chat, completion_chunks, reply, models, embedding

    chunks, chat, completion_chunks, reply, models, embedding = asyncio.run(run())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() and text == chat.choices[0].message.content
    completion_text = "".join(c.choices[0].text for c in completion_chunks)
    assert completion_text and completion_text == reply.choices[0].text
    same_as_live(llm_replay, "async", [
        text, [c.model_dump() for c in chunks], chat.model_dump(),
        completion_text, [c.model_dump() for c in completion_chunks], reply.model_dump(),
        [m.model_dump() for m in models], embedding.model_dump(warnings=False)])


@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_raw_http_clients_of_both_flavours(llm_replay, flavour):
    body = {"model": llm_replay.model, "messages": [{"role": "user", "content": flavour}],
            "stream": True, "temperature": 0, "max_tokens": 8}
    with llm_replay.http_client(flavour) as client:
        raw = client.post(llm_replay.base_url + "/chat/completions", json=body).content
    assert raw.rstrip().endswith(b"data: [DONE]")
    lines = raw.decode().split("\\n\\n")
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    same_as_live(llm_replay, f"raw_{flavour}", text)
'''


def _app(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_app=APP_TESTS)
    live = pytester.mkdir("live")
    monkeypatch.setenv("LIVE_DIR", str(live))
    return pytester.path / "recordings"


def test_record_then_replay_without_server_or_network(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, real_server_available: None
) -> None:
    recordings = _app(pytester, monkeypatch)
    recorded = pytester.runpytest_subprocess("--record", "-p", "no:cacheprovider")
    recorded.assert_outcomes(passed=9)
    recorded.stdout.fnmatch_lines(["*0 replayed, 14 recorded, 0 missed*"])
    files = recording_files(recordings)
    assert {path.name.split("-")[0] for path in files} == {
        "chat_completions",
        "completions",
        "embeddings",
        "models",
    }
    # 14 exchanges, each in the folder of its test (the sync and async tests list the models
    # with the same request, and each keeps its own)
    assert len(files) == 14, [str(path) for path in files]

    for path in files:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        assert text.endswith("\n") and document["version"] == 2
        assert path.parent == recordings / scope_folder(document["test"])
        # The model the auto-started server ran, whatever name the request asked for.
        assert document["recorded"]["server_model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
        streamed = document["response"]["is_streaming"]
        if streamed:
            assert document["response"]["body"][-1] == "[DONE]"
            assert len(document["response"]["event_ms"]) == len(document["response"]["body"])

    # Replay in a process where any socket connect fails: no server, no network.
    pytester.makeconftest(BLOCK_NETWORK)
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=9)
    replayed.stdout.fnmatch_lines(["*14 replayed, 0 recorded, 0 missed*"])
    assert recording_files(recordings) == files


def test_typed_chunks_keep_exactly_what_the_server_sent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, llama_server: LlamaServer
) -> None:
    """__data__ holds the server's JSON as sent: no fields added by a model_dump."""
    import httpx

    body = {"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}],
            "stream": True, "temperature": 0, "max_tokens": 6}  # fmt: skip
    direct = httpx.post(llama_server.base_url + "/chat/completions", json=body, timeout=60)
    sent = [
        json.loads(line[6:]) for line in direct.text.split("\n\n") if line.startswith("data: {")
    ]

    recordings = _app(pytester, monkeypatch)
    pytester.makepyfile(
        test_one=f"""
def test_one(llm_replay):
    with llm_replay.http_client() as client:
        client.post(llm_replay.base_url + "/chat/completions", json={body!r})
"""
    )
    result = pytester.runpytest_subprocess(
        "--record", "--llm-server-url", llama_server.base_url.removesuffix("/v1"),
        "-p", "no:cacheprovider", "test_one.py",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    [path] = recording_files(recordings)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["recorded"]["server"] == f"http://127.0.0.1:{llama_server.port}"
    stored = document["response"]["body"]
    assert all(e["__type__"].endswith("ChatCompletionChunk") for e in stored[:-1])
    data = [element["__data__"] for element in stored[:-1]]
    assert [set(chunk) for chunk in data] == [set(chunk) for chunk in sent]
    assert [c["choices"] for c in data] == [c["choices"] for c in sent]


def test_a_model_that_is_not_gguf_stops_recording_with_the_server_output(
    pytester: pytest.Pytester, real_server_available: None
) -> None:
    bad = pytester.path / "broken.gguf"
    bad.write_bytes(b"this is not a model")
    pytester.makepyfile(test_x="def test_x(llm_replay):\n    llm_replay.openai()\n")
    result = pytester.runpytest_subprocess("--record", "--llm-model", str(bad))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the llama.cpp server exited with code*"])
    assert "Traceback" not in result.stdout.str()


def test_live_mode_talks_to_the_server_and_writes_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, llama_server: LlamaServer
) -> None:
    recordings = _app(pytester, monkeypatch)
    url = llama_server.base_url
    result = pytester.runpytest_subprocess(
        "--record-mode", "live", "--llm-server-url", url, "-k", "chat_stream or models"
    )
    result.assert_outcomes(passed=2, deselected=7)
    result.stdout.fnmatch_lines(["*0 replayed, 0 recorded, 0 missed, 2 live (not recorded)*"])
    assert not recordings.exists() or recording_files(recordings) == []
