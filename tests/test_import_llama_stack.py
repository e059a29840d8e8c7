"""Importing today's OGX (llama-stack) recordings: every shape its recorder writes, each into
its test's scope, safely in batches.

The OGX files here are hand-made, small, in the shapes OGX's recorder writes
(``src/ogx/testing/api_recorder.py``: ``request.payload`` and ``response.status`` for the HTTP
calls it intercepts, raw SSE line lists for their streams, ``is_exception`` with
``exception_data`` for a provider's error, Ollama-native ``/api/ps``, model lists with no test)
and in the shapes quoted in issue 11. Replay goes through the real openai and anthropic SDKs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from replay.cli.command_line import main
from replay.core import sse, typed_events
from replay.core.http_flavours import default_flavour, flavour_module
from replay.core.recording import loads
from replay.player import Player
from replay.plugin.handle import anthropic_flavour
from replay.store.directory import DirectoryStore
from replay.transports.httpx_transport import replay_transport
from tests.conftest import BLOCK_NETWORK
from tests.seedfiles import SEEDS
from tests.test_genai import ONE, STREAMED

TEST_A = "tests/integration/messages/test_messages.py::test_create[ollama]"
TEST_B = "tests/integration/messages/test_messages.py::test_stream[ollama]"
OLLAMA = "http://localhost:11434"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
# What the openai SDK makes the message of a 400 from (``_make_status_error_from_response``):
# the status and the repr of the JSON body.
ERROR_BODY = {
    "error": {
        "message": "messages is required",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}
SDK_MESSAGE = f"Error code: 400 - {ERROR_BODY}"
# openai 3.x puts only the error's message into the exception's.
SDK_3_MESSAGE = "Error code: 400 - messages is required"


def ogx(test_id: str | None, request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {
        "test_id": test_id,
        "request": request,
        "response": response,
        "id_normalization_mapping": {},
    }


def messages_call(payload: dict[str, Any], status: int, body: Any, test_id: str = TEST_A) -> Any:
    """An Anthropic Messages call OGX intercepted with httpx (``_patched_httpx_async_post``)."""
    request = {"test_id": test_id, "url": f"{OLLAMA}/v1/messages", "method": "POST",
               "payload": payload}  # fmt: skip
    return ogx(test_id, request, {"status": status, "body": body, "is_streaming": False})


def anthropic_message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_rec-1", "type": "message", "role": "assistant", "model": "llama3.2:3b",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 7},
    }  # fmt: skip


def sse_lines(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """A stream as OGX keeps it: the lines ``aiter_lines`` gave, blank lines included."""
    lines = []
    for name, data in events:
        lines += [f"event: {name}", f"data: {json.dumps(data)}", ""]
    return lines


MESSAGE_STREAM = sse_lines(
    [
        ("message_start", {"type": "message_start", "message": anthropic_message("") | {
            "content": [], "stop_reason": None}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Paris is "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "the capital."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                           "stop_sequence": None}, "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]
)  # fmt: skip

# A Gemini Interactions stream, in the shape OGX keeps (hand-made; event names as sent).
INTERACTION_STREAM = sse_lines(
    [
        ("interaction.start", {"event_type": "interaction.start",
                               "interaction": {"id": "rec-1", "status": "in_progress"}}),
        ("content.delta", {"event_type": "content.delta", "index": 0,
                           "delta": {"type": "text", "text": "Bonjour"}}),
        ("interaction.complete", {"event_type": "interaction.complete",
                                  "interaction": {"id": "rec-1", "status": "completed"}}),
    ]
)  # fmt: skip


def streamed_call(url: str, payload: dict[str, Any], lines: list[str], test_id: str) -> Any:
    """A stream OGX intercepted (``_patched_httpx_async_stream``): no status, raw lines."""
    request = {"test_id": test_id, "url": url, "method": "POST", "payload": payload}
    return ogx(test_id, request, {"body": lines, "is_streaming": True})


def chat_call(test_id: str | None, body: dict[str, Any], response: dict[str, Any]) -> Any:
    """An openai SDK call OGX patched (``_patched_inference_method``): its keyword arguments."""
    request = {
        "method": "POST", "url": f"{OLLAMA}/v1/chat/completions", "headers": {}, "body": body,
        "endpoint": "/v1/chat/completions", "model": body.get("model", ""),
        "provider_metadata": {"openai_sdk_version": "2.8.0"},
    }  # fmt: skip
    return ogx(test_id, request, response)


def provider_error(status: int, message: str, body: Any) -> dict[str, Any]:
    return {
        "body": None,
        "is_streaming": False,
        "is_exception": True,
        "exception_data": {
            "category": "provider_sdk", "provider": "openai", "type": "BadRequestError",
            "message": message, "status_code": status, "body": body,
        },
        "exception_message": message,
    }  # fmt: skip


def model_list(url: str, names: list[str]) -> Any:
    request = {"method": "POST", "url": f"{url}/v1/models", "headers": {}, "body": {},
               "endpoint": "/v1/models", "model": ""}  # fmt: skip
    models = [
        {"__type__": typed_events.MODEL, "__data__": {"id": name, "object": "model", "created": 0,
                                               "owned_by": url}}
        for name in names
    ]  # fmt: skip
    return ogx(TEST_A, request, {"body": models, "is_streaming": False})


def ollama_ps(test_id: str) -> Any:
    request = {"method": "POST", "url": f"{OLLAMA}/api/ps", "headers": {}, "body": {},
               "endpoint": "/api/ps", "model": ""}  # fmt: skip
    body = {
        "__type__": "ollama._types.ProcessResponse",
        "__data__": {
            "models": [
                {
                    "model": "llama3.2:3b",
                    "name": "llama3.2:3b",
                    "digest": "a80c4f17acd5",
                    "expires_at": "1970-01-01T00:00:00Z",
                    "size": 3400000000,
                    "size_vram": 0,
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
                }
            ]
        },
    }
    return ogx(test_id, request, {"body": body, "is_streaming": False})  # fmt: skip


CHAT_ANSWER = {
    "__type__": typed_events.CHAT_COMPLETION,
    "__data__": {
        "id": "rec-1", "object": "chat.completion", "created": 0, "model": "llama3.2:3b",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": "Paris."}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    },
}  # fmt: skip


def corpus() -> dict[str, Any]:
    """One hand-made OGX file of each shape, by file name."""
    question = {"model": "llama3.2:3b", "max_tokens": 64, "messages": QUESTION}
    return {
        "messages-ok.json": messages_call(question, 200, anthropic_message("Paris.")),
        "messages-400.json": messages_call(
            {"model": "llama3.2:3b", "max_tokens": 64, "messages": []}, 400,
            {"type": "error", "error": {"type": "invalid_request_error",
                                        "message": "messages: at least one message is required"}},
        ),
        "messages-stream.json": streamed_call(
            f"{OLLAMA}/v1/messages", question | {"stream": True}, MESSAGE_STREAM, TEST_B
        ),
        "interactions.json": streamed_call(
            "https://generativelanguage.googleapis.com/v1beta/interactions?alt=sse",
            {"model": "gemini-2.5-flash", "input": "Say hello in French", "stream": True},
            INTERACTION_STREAM, TEST_B,
        ),
        "chat-a.json": chat_call(TEST_A, {"model": "llama3.2:3b", "messages": QUESTION}, {
            "body": CHAT_ANSWER, "is_streaming": False}),
        "chat-b.json": chat_call(TEST_B, {"model": "llama3.2:3b", "messages": QUESTION}, {
            "body": CHAT_ANSWER | {"__data__": CHAT_ANSWER["__data__"] | {"choices": [
                {"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "The capital is Paris."}}]}},
            "is_streaming": False}),
        "chat-400.json": chat_call(TEST_A, {"model": "llama3.2:3b", "messages": []},
                                   provider_error(400, SDK_MESSAGE, ERROR_BODY["error"])),
        "models-ollama.json": model_list(OLLAMA, ["llama3.2:3b", "all-minilm"]),
        "models-vllm.json": model_list("http://localhost:8000", ["Qwen/Qwen3-0.6B"]),
        "models-again.json": model_list("http://localhost:8001", ["all-minilm", "granite"]),
        "ps.json": ollama_ps(TEST_A),
        # google-genai calls, in tests/test_genai.py's hand-made OGX shape
        "genai-one.json": ONE | {"test_id": TEST_A},
        "genai-stream.json": STREAMED | {"test_id": TEST_B},
        "tool.json": ogx(TEST_A, {"test_id": TEST_A, "provider": "tavily",
                                  "tool_name": "web_search", "kwargs": {"query": "x"}},
                         {"body": {"content": "x"}, "is_streaming": False}),
    }  # fmt: skip


def write(folder: Path, files: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in files.items():
        (folder / name).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return [folder / name for name in files]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.json"))
    }


def imported(folder: Path, name: str) -> dict[str, Any]:
    """The imported file a source went to, found by the source's recorded request."""
    value: dict[str, Any] = json.loads((folder / name).read_text(encoding="utf-8"))
    return value


def destinations(out: str) -> dict[str, Path]:
    """Source file name -> the file it was imported to, from the import's output."""
    found = {}
    for line in out.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("imported", "merged", "unchanged") and " -> " in rest:
            source, _, destination = rest.partition(" -> ")
            found[Path(source).name] = Path(destination)
    return found


def player(folder: Path, test: str | None) -> Player:
    return Player(DirectoryStore(folder), "replay", test=test)


def openai_client(folder: Path, test: str | None) -> openai.OpenAI:
    http = flavour_module(default_flavour()).Client(
        transport=replay_transport(player(folder, test))
    )
    return openai.OpenAI(base_url="http://replay.test:1/v1", api_key="unused", http_client=http)


def anthropic_client(folder: Path, test: str | None) -> anthropic.Anthropic:
    flavour = anthropic_flavour()
    http = flavour_module(flavour).Client(transport=replay_transport(player(folder, test), flavour))
    return anthropic.Anthropic(
        base_url="http://replay.test:1", api_key="unused", http_client=http, max_retries=0
    )


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "ogx" / "tests" / "integration" / "recordings"
    write(folder, corpus())
    return folder


def test_every_shape_imports_and_the_summary_counts_it(
    capsys: pytest.CaptureFixture[str], sources: Path, tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    code, out = run(capsys, "import-llama-stack", sources, "--to", to)
    assert code == 0, out
    lines = out.splitlines()
    assert (
        "14 files read: 13 imported (3 of them model lists merged with others of the same "
        "request), 0 already there, 1 skipped, 0 clashes; 11 files written under " + str(to)
    ) in lines
    assert (
        "  skipped     1: a tool invocation, not an HTTP exchange with a model server "
        "(nothing lost)"
    ) in lines
    where = destinations(out)
    # Each recording in its test's folder; model lists shared, all three in one file.
    assert where["chat-a.json"].parent == to / "tests/integration/messages/test_messages" / (
        "test_create[ollama]"
    )
    assert where["chat-b.json"].parent.name == "test_stream[ollama]"
    assert where["chat-a.json"].name == where["chat-b.json"].name  # the same request
    assert where["models-ollama.json"] == where["models-vllm.json"] == where["models-again.json"]
    assert where["models-ollama.json"].parent == to / "_shared"
    assert run(capsys, "--dir", to, "verify")[0] == 0


def test_the_request_body_status_and_events_come_through_unchanged(
    capsys: pytest.CaptureFixture[str], sources: Path, tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    _, out = run(capsys, "import-llama-stack", sources, "--to", to)
    where = destinations(out)
    original = corpus()
    for name in ("messages-ok.json", "messages-400.json"):
        document = json.loads(where[name].read_text(encoding="utf-8"))
        assert document["test"] == TEST_A
        assert document["request"]["body"] == original[name]["request"]["payload"]
        assert document["response"]["status"] == original[name]["response"]["status"]
        assert document["response"]["is_streaming"] is False
        assert (
            typed_events.payload(document["response"]["body"]) == original[name]["response"]["body"]
        )
    # The two Messages calls of one test are two recordings, not repeats of one.
    assert where["messages-ok.json"] != where["messages-400.json"]
    for name in ("messages-stream.json", "interactions.json"):
        recording = loads(where[name].read_bytes(), str(where[name]))
        assert recording.is_streaming and recording.body == original[name]["request"]["payload"]
        sent = [
            (event.event, json.loads(event.data))
            for event in sse.parse(
                "".join(f"{line}\n" for line in original[name]["response"]["body"]).encode()
            )
        ]
        replayed = [
            (event.event, json.loads(event.data))
            for event in sse.parse(b"".join(recording.chunks()))
        ]
        assert replayed == sent
    stream = json.loads(where["messages-stream.json"].read_text(encoding="utf-8"))
    assert (
        stream["response"]["body"][0]["__type__"] == typed_events.ANTHROPIC_EVENTS["message_start"]
    )
    assert stream["response"]["body"][0]["__event__"] == "message_start"
    interaction = loads(where["interactions.json"].read_bytes())
    assert interaction.endpoint == "/v1beta/interactions" and "alt=sse" in interaction.url
    ps = json.loads(where["ps.json"].read_text(encoding="utf-8"))
    assert ps["request"]["method"] == "GET" and ps["request"]["body"] is None
    assert ps["response"]["body"] == original["ps.json"]["response"]["body"]["__data__"]


def test_each_test_replays_its_own_answer_and_errors_replay_as_sdk_exceptions(
    capsys: pytest.CaptureFixture[str], sources: Path, tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    assert run(capsys, "import-llama-stack", sources, "--to", to)[0] == 0
    for test, text in ((TEST_A, "Paris."), (TEST_B, "The capital is Paris.")):
        reply = openai_client(to, test).chat.completions.create(
            model="llama3.2:3b",
            messages=QUESTION,  # type: ignore[arg-type]
        )
        assert reply.choices[0].message.content == text
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client(to, TEST_A).chat.completions.create(model="llama3.2:3b", messages=[])
    # The SDK sees the body the server sent: the error the provider SDK kept, and the message
    # this SDK makes of it (openai 2.x: the repr of the body, as recorded; 3.x: its message).
    assert raised.value.status_code == 400 and raised.value.body == ERROR_BODY["error"]
    assert raised.value.message == (
        SDK_MESSAGE if openai.__version__.startswith("2.") else SDK_3_MESSAGE
    )
    # Model lists are shared: any test, or none, gets every model of the three lists.
    for test in (TEST_A, "tests/other.py::test_x", None):
        names = [model.id for model in openai_client(to, test).models.list()]
        assert names == ["Qwen/Qwen3-0.6B", "all-minilm", "granite", "llama3.2:3b"]
    client = anthropic_client(to, TEST_A)
    message = client.messages.create(model="llama3.2:3b", max_tokens=64, messages=QUESTION)  # type: ignore[arg-type]
    assert message.content[0].text == "Paris."  # type: ignore[union-attr]
    with pytest.raises(anthropic.BadRequestError, match="at least one message is required"):
        client.messages.create(model="llama3.2:3b", max_tokens=64, messages=[])  # type: ignore[call-overload]
    stream = anthropic_client(to, TEST_B).messages.create(
        model="llama3.2:3b",
        max_tokens=64,
        messages=QUESTION,
        stream=True,  # type: ignore[arg-type]
    )
    deltas = [e.delta.text for e in stream if e.type == "content_block_delta"]  # type: ignore[union-attr]
    assert "".join(deltas) == "Paris is the capital."
    http = flavour_module(default_flavour()).Client(transport=replay_transport(player(to, TEST_A)))
    assert (
        http.get("http://replay.test:1/api/ps").json()
        == (corpus()["ps.json"]["response"]["body"]["__data__"])
    )


def test_one_call_batches_in_any_order_and_a_second_run_give_the_same_folder(
    capsys: pytest.CaptureFixture[str], sources: Path, tmp_path: Path
) -> None:
    seeds = [SEEDS / "002_1b278b56b763379a.txt", SEEDS / "003_11d0a2173aefbf3a.txt"]
    files = [*sorted(sources.iterdir()), *seeds]
    whole = tmp_path / "whole"
    assert run(capsys, "import-llama-stack", *files, "--to", whole)[0] == 0
    batched = tmp_path / "batched"
    backwards = files[::-1]
    for start in range(0, len(backwards), 3):
        code, out = run(
            capsys, "import-llama-stack", *backwards[start : start + 3], "--to", batched
        )
        assert code == 0, out
    assert snapshot(batched) == snapshot(whole)
    assert len(snapshot(whole)) == 13
    code, out = run(capsys, "import-llama-stack", *files, "--to", whole)
    assert code == 0
    assert "15 already there" in out and "0 files written" in out
    assert snapshot(batched) == snapshot(whole)


def test_a_clash_is_reported_and_never_written_over(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    same_request = {"model": "llama3.2:3b", "messages": QUESTION}
    other = CHAT_ANSWER | {"__data__": CHAT_ANSWER["__data__"] | {"model": "other"}}
    first = write(tmp_path / "one", {"a.json": chat_call(TEST_A, same_request, {
        "body": CHAT_ANSWER, "is_streaming": False})})  # fmt: skip
    second = write(tmp_path / "two", {"b.json": chat_call(TEST_A, same_request, {
        "body": other, "is_streaming": False})})  # fmt: skip
    to = tmp_path / "recordings"
    assert run(capsys, "import-llama-stack", *first, "--to", to)[0] == 0
    before = snapshot(to)
    code, out = run(capsys, "import-llama-stack", *second, "--to", to)
    assert code == 1
    assert f"clash {second[0]} -> " in out and "a different recording is kept there" in out
    assert "1 clash" in out
    assert snapshot(to) == before
    # Within one call, the kept one does not depend on the order of the files.
    kept = []
    for order, target in (([*first, *second], "x"), ([*second, *first], "y")):
        assert run(capsys, "import-llama-stack", *order, "--to", tmp_path / target)[0] == 1
        kept.append(snapshot(tmp_path / target))
    assert kept[0] == kept[1]


def test_a_dry_run_says_the_same_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], sources: Path, tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    code, out = run(capsys, "import-llama-stack", sources, "--to", to, "--dry-run")
    assert code == 0
    assert not to.exists()
    assert "13 would be imported" in out and "11 files would be written" in out
    assert out.splitlines()[-1] == "dry run: nothing was written"
    code, real = run(capsys, "import-llama-stack", sources, "--to", to)
    assert destinations(out) == destinations(real)


def test_what_cannot_be_imported_is_counted_by_reason_and_fails_the_import(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chat = {"model": "m", "messages": QUESTION}
    unknown = {"body": None, "is_streaming": False, "is_exception": True,
               "exception_data": {"category": "builtin", "type": "ValueError",
                                  "message": "bad tool schema"},
               "exception_message": "bad tool schema"}  # fmt: skip
    cut = provider_error(500, "Error code: 500 - {'error': 'boom'}", {"error": "boom"}) | {
        "is_streaming": True, "body": [CHAT_ANSWER]}  # fmt: skip
    stream = {"body": [{"model": "m"}], "is_streaming": True}
    ollama_stream = ogx(TEST_A, {"method": "POST", "url": f"{OLLAMA}/api/chat", "body": chat,
                                 "endpoint": "/api/chat"}, stream)  # fmt: skip
    files = write(tmp_path / "ogx", {
        "builtin.json": chat_call(TEST_A, chat, unknown),
        "cut.json": chat_call(TEST_A, chat, cut),
        "ollama-stream.json": ollama_stream,
        "malformed.json": {"request": "POST"},
        "tool.json": corpus()["tool.json"],
    })  # fmt: skip
    (tmp_path / "ogx" / "page.json").write_text('{"request": {', encoding="utf-8")
    code, out = run(capsys, "import-llama-stack", tmp_path / "ogx", "--to", tmp_path / "to")
    assert code == 1
    skipped = dict(line.removeprefix("skipped ").split(": ", 1) for line in out.splitlines()
                   if line.startswith("skipped /"))  # fmt: skip
    assert skipped[str(files[0])].startswith(
        "a recorded exception that is not an HTTP error (ValueError: bad tool schema"
    )
    assert skipped[str(files[1])].startswith("a stream that ended in an exception")
    assert skipped[str(files[2])].startswith("an Ollama-native stream (/api/chat streams NDJSON")
    assert skipped[str(files[3])].startswith("not a llama-stack recording")
    assert skipped[str(tmp_path / "ogx" / "page.json")].startswith("not JSON")
    assert "(nothing lost)" in out.split("skipped     1: a tool invocation")[1].splitlines()[0]
    assert not (tmp_path / "to").exists() or snapshot(tmp_path / "to") == {}


def test_a_seed_copied_into_a_scope_imports_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The seeds have no test_id: shared; the same seed twice is one recording."""
    folder = tmp_path / "ogx"
    folder.mkdir()
    shutil.copy(SEEDS / "002_1b278b56b763379a.txt", folder / "a.json")
    shutil.copy(SEEDS / "002_1b278b56b763379a.txt", folder / "b.json")
    code, out = run(capsys, "import-llama-stack", folder, "--to", tmp_path / "to")
    assert code == 0
    where = destinations(out)
    assert where["a.json"] == where["b.json"] and where["a.json"].parent.name == "_shared"
    assert "1 already there" in out


# The OGX tests whose recordings the corpus holds, as a migrated suite has them: same file,
# same names, same parameter ids, so that their node ids are the recordings' test_id.
MIGRATED_SUITE = """
import pytest

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
GENAI_CONFIG = {
    "temperature": 0.0, "max_output_tokens": 32, "system_instruction": "Answer briefly."
}


@pytest.mark.parametrize("provider", ["ollama"])
def test_create(llm_replay, provider):
    chat = llm_replay.openai().chat.completions.create(model="llama3.2:3b", messages=QUESTION)
    assert chat.choices[0].message.content == "Paris."
    models = [model.id for model in llm_replay.openai().models.list()]
    assert models == ["Qwen/Qwen3-0.6B", "all-minilm", "granite", "llama3.2:3b"]
    message = llm_replay.anthropic().messages.create(
        model="llama3.2:3b", max_tokens=64, messages=QUESTION
    )
    assert message.content[0].text == "Paris."
    answer = llm_replay.genai().models.generate_content(
        model="gemini-2.0-flash",
        contents=[{"parts": [{"text": QUESTION[0]["content"]}], "role": "user"}],
        config=GENAI_CONFIG,
    )
    assert answer.text == "Paris is the capital of France."


@pytest.mark.parametrize("provider", ["ollama"])
def test_stream(llm_replay, provider):
    chat = llm_replay.openai().chat.completions.create(model="llama3.2:3b", messages=QUESTION)
    assert chat.choices[0].message.content == "The capital is Paris."
    stream = llm_replay.anthropic().messages.create(
        model="llama3.2:3b", max_tokens=64, messages=QUESTION, stream=True
    )
    text = "".join(e.delta.text for e in stream if e.type == "content_block_delta")
    assert text == "Paris is the capital."
    chunks = llm_replay.genai().models.generate_content_stream(
        model="gemini-2.0-flash", contents=QUESTION[0]["content"], config=GENAI_CONFIG
    )
    assert "".join(chunk.text for chunk in chunks) == "Paris is the capital of France."
"""


def test_a_migrated_suite_replays_test_by_test_through_the_fixture(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = write(pytester.path / "ogx", corpus())
    assert run(capsys, "import-llama-stack", *sources, "--to", pytester.path / "recordings")[0] == 0
    folder = pytester.path / "tests" / "integration" / "messages"
    folder.mkdir(parents=True)
    (folder / "test_messages.py").write_text(MIGRATED_SUITE, encoding="utf-8")
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    result = pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*7 replayed, 0 recorded, 0 missed*"])
