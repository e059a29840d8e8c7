"""One recorded exchange and its file format."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from replay.core import sse, typed_events
from replay.core.hashing import request_key
from replay.core.recording import FORMAT_VERSION, Recording, dumps, loads, recordable_headers
from replay.errors import RecordingFileError

SEEDS = Path(__file__).parent / "seeds"
SOURCE = "recordings/chat_completions/0123456789abcdef.json"

BODY = {
    "model": "smollm2",
    "messages": [{"role": "user", "content": "Grüße! Say 世界"}],
    "temperature": 0.0,
    "stream": True,
}


def chunk(content: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1716194078,
        "model": "smollm2",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }


CHUNKS = [chunk("Grüße"), chunk(", 世界 🌍"), chunk("", "stop")]


def make_streaming(**changes: Any) -> Recording:
    fields: dict[str, Any] = {
        "method": "POST",
        "url": "http://127.0.0.1:8080/v1/chat/completions",
        "endpoint": "/v1/chat/completions",
        "body": BODY,
        "status": 200,
        "content_type": "text/event-stream",
        "is_streaming": True,
        "events": [*(typed_events.encode(c, "/v1/chat/completions") for c in CHUNKS), "[DONE]"],
        "headers": {"content-type": "application/json"},
        "model": "smollm2",
        "event_ms": [1.5, 2.25, 3.0, 3.5],
        "recorded": {"at": "2025-01-01T00:00:00+00:00", "server": "llama.cpp", "by": "tests"},
    }
    fields.update(changes)
    return Recording(**fields)


COMPLETION = {
    "id": "chatcmpl-2",
    "object": "chat.completion",
    "created": 1716194078,
    "model": "smollm2",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Grüße"}, "finish_reason": "stop"}
    ],
}


def make_plain(**changes: Any) -> Recording:
    fields: dict[str, Any] = {
        "method": "POST",
        "url": "http://127.0.0.1:8080/v1/chat/completions",
        "endpoint": "/v1/chat/completions",
        "body": {**BODY, "stream": False},
        "status": 200,
        "content_type": "application/json",
        "is_streaming": False,
        "events": [typed_events.encode(COMPLETION, "/v1/chat/completions")],
    }
    fields.update(changes)
    return Recording(**fields)


def document(recording: Recording) -> dict[str, Any]:
    return json.loads(dumps(recording))


# --- dumps -------------------------------------------------------------------------------


def test_dumps_is_indented_by_two() -> None:
    text = dumps(make_plain())
    assert text.splitlines()[1] == '  "version": 2,'
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_dumps_writes_a_stream_one_event_per_line() -> None:
    """A re-recording diffs event by event, and a thousand events are a thousand lines:
    the rest is indented by two, as a file that is not a stream."""
    recording = make_streaming(event_ms=[1.5, 2.25, 3.0, 4.125])
    text = dumps(recording)
    lines = text.splitlines()
    start = lines.index('    "body": [')
    events = recording.events
    assert lines[start + 1 : start + 1 + len(events)] == [
        "      " + json.dumps(event, ensure_ascii=False) + ("," if i < len(events) - 1 else "")
        for i, event in enumerate(events)
    ]
    assert lines[start + 1 + len(events)] == "    ],"
    assert lines[start + 2 + len(events)] == '    "event_ms": [1.5, 2.25, 3.0, 4.125]'
    document = json.loads(text)
    assert document["response"]["body"] == events
    del document["response"]["body"], document["response"]["event_ms"]
    outside = lines[:start] + lines[start + 3 + len(events) :]
    assert outside[start - 1] == '    "is_streaming": true,'
    outside[start - 1] = '    "is_streaming": true'
    assert "\n".join(outside) == json.dumps(document, indent=2, ensure_ascii=False)


def test_dumps_keeps_non_ascii_characters_literally() -> None:
    text = dumps(make_streaming())
    assert "Grüße! Say 世界" in text
    assert ", 世界 🌍" in text
    assert "\\u" not in text


def test_dumps_ends_with_one_newline() -> None:
    text = dumps(make_streaming())
    assert text.endswith("}\n")
    assert not text.endswith("\n\n")


def test_dumps_key_order() -> None:
    doc = document(make_streaming())
    assert list(doc) == ["version", "key", "test", "request", "response", "recorded"]
    assert doc["version"] == FORMAT_VERSION == 2
    assert list(doc["request"]) == ["method", "url", "headers", "body", "endpoint", "model"]
    assert list(doc["response"]) == ["status", "content_type", "is_streaming", "body", "event_ms"]


def test_dumps_of_a_loaded_file_is_the_file_byte_for_byte() -> None:
    """A re-recording with the same answer writes the same bytes, so that git shows nothing:
    every committed version-2 recording reads back and writes to exactly its own text."""
    root = Path(__file__).resolve().parents[1] / "recordings"
    paths = sorted(root.rglob("*.json"))
    assert len(paths) >= 10
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert dumps(loads(text, str(path))) == text, path
    made = make_streaming()
    assert dumps(loads(dumps(made))) == dumps(made)


def test_dumps_key_matches_the_request() -> None:
    recording = make_streaming(url="http://127.0.0.1:8080/v1/chat/completions?b=2&a=1")
    doc = document(recording)
    assert doc["key"] == recording.key
    assert doc["key"] == request_key("POST", "/v1/chat/completions", "a=1&b=2", BODY)
    assert len(doc["key"]) == 64


def test_key_ignores_the_host_of_the_url() -> None:
    one = make_streaming(url="http://127.0.0.1:8080/v1/chat/completions")
    other = make_streaming(url="http://gpu-box:9999/v1/chat/completions")
    assert one.key == other.key
    assert make_streaming(body={**BODY, "seed": 1}).key != one.key


def test_dumps_writes_one_stream_event_per_array_element() -> None:
    doc = document(make_streaming())
    body = doc["response"]["body"]
    assert len(body) == 4
    assert body[0] == {"__type__": typed_events.CHAT_COMPLETION_CHUNK, "__data__": CHUNKS[0]}
    assert body[-1] == "[DONE]"


def test_dumps_writes_a_plain_body_as_the_element_itself() -> None:
    doc = document(make_plain())
    assert doc["response"]["body"] == {
        "__type__": typed_events.CHAT_COMPLETION,
        "__data__": COMPLETION,
    }
    assert "event_ms" not in doc["response"]


def test_dumps_never_writes_secret_headers() -> None:
    secret = "Bearer sk-test-secret"
    text = dumps(make_streaming(headers={"Authorization": secret, "content-type": "x"}))
    assert secret not in text


# --- loads -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [make_streaming, make_plain])
def test_loads_dumps_round_trip(make: Any) -> None:
    recording = make()
    loaded = loads(dumps(recording), SOURCE)
    assert loaded.source == SOURCE
    assert dataclasses.replace(loaded, source=None) == recording
    assert loaded.key == recording.key
    assert dumps(loaded) == dumps(recording)


def test_loads_reads_bytes() -> None:
    recording = make_streaming()
    assert loads(dumps(recording).encode("utf-8")).events == recording.events


def test_loads_default_source_name() -> None:
    assert loads(dumps(make_plain())).source == "<string>"


def test_loads_the_llama_stack_seed() -> None:
    path = SEEDS / "002_1b278b56b763379a.txt"
    recording = loads(path.read_bytes(), str(path))
    assert recording.method == "POST"
    assert recording.endpoint == "/v1/chat/completions"
    assert recording.url == "http://localhost:8000/v1/v1/chat/completions"
    assert recording.is_streaming
    assert recording.status == 200
    assert recording.content_type == "text/event-stream"
    assert recording.model == "meta-llama/Llama-3.2-1B-Instruct"
    assert recording.body["n"] == 2
    assert len(recording.events) == 22
    assert all(e["__type__"] == typed_events.CHAT_COMPLETION_CHUNK for e in recording.events)
    # choices 0 and 1 interleave, in the order they were sent
    indexes = [e["__data__"]["choices"][0]["index"] for e in recording.events]
    assert indexes[:2] == [0, 1]
    assert sorted(indexes) == [0] * 11 + [1] * 11
    # It answers the request as a client would send it, doubled /v1 or not.
    body = json.loads(path.read_text(encoding="utf-8"))["request"]["body"]
    assert recording.key == request_key("POST", "/v1/chat/completions", "", body)


def test_loads_llama_stack_defaults_for_a_plain_body() -> None:
    text = json.dumps(
        {
            "request": {"method": "POST", "url": "http://h/v1/embeddings", "body": {"a": 1}},
            "response": {"body": {"object": "list", "data": []}, "is_streaming": False},
        }
    )
    recording = loads(text)
    assert recording.status == 200
    assert recording.content_type == "application/json"
    assert recording.endpoint == "/v1/embeddings"  # taken from the url when not given
    assert recording.events == [{"object": "list", "data": []}]


# --- chunks ------------------------------------------------------------------------------


def test_chunks_render_one_sse_event_per_element() -> None:
    chunks = list(make_streaming().chunks())
    expected = [
        b"data: " + json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"
        for c in CHUNKS
    ]
    assert chunks == [*expected, b"data: [DONE]\n\n"]
    assert "世界 🌍".encode() in chunks[1]


def test_chunks_of_the_seed_give_back_the_data_sent() -> None:
    recording = loads((SEEDS / "002_1b278b56b763379a.txt").read_bytes())
    chunks = list(recording.chunks())
    assert len(chunks) == 22
    events = sse.parse(b"".join(chunks))
    assert [json.loads(e.data) for e in events] == [e["__data__"] for e in recording.events]


def test_chunks_of_plain_json_and_text_events() -> None:
    recording = make_streaming(events=[{"object": "thread", "n": 1}, "not json", "[DONE]"])
    assert list(recording.chunks()) == [
        b'data: {"object":"thread","n":1}\n\n',
        b"data: not json\n\n",
        b"data: [DONE]\n\n",
    ]


def test_chunks_of_a_plain_body() -> None:
    chunks = list(make_plain().chunks())
    assert len(chunks) == 1
    assert json.loads(chunks[0]) == COMPLETION
    assert chunks[0] == json.dumps(COMPLETION, separators=(",", ":"), ensure_ascii=False).encode()
    assert "Grüße".encode() in chunks[0]


def test_chunks_of_a_plain_text_body() -> None:
    assert list(make_plain(events=["plain text é"]).chunks()) == ["plain text é".encode()]


# --- loads errors ------------------------------------------------------------------------


def native(**changes: Any) -> dict[str, Any]:
    doc = document(make_streaming())
    doc.update(changes)
    return doc


def with_response(**changes: Any) -> str:
    doc = native()
    doc["response"].update(changes)
    return json.dumps(doc)


def without(name: str) -> str:
    doc = native()
    del doc[name]
    return json.dumps(doc)


def edited_request() -> str:
    doc = native()
    doc["request"]["body"]["temperature"] = 0.7
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[]", "array"),
        ('"a string"', "string"),
        (without("request"), "request is missing"),
        (without("response"), "response is missing"),
        (json.dumps(native(request="POST")), "request is a JSON string"),
        (json.dumps(native(version=99)), "version 99"),
        (json.dumps(native(version="1")), "version '1'"),
        (with_response(body=[{"__type__": "os.system", "__data__": {}}]), "os.system"),
        (with_response(body=[{"__type__": "builtins.eval", "__data__": {}}]), "body[0]"),
        (
            with_response(body=[{"__type__": typed_events.MODEL, "__data__": []}]),
            "not a JSON object",
        ),
        (with_response(body={"object": "list"}), "not a list"),
        (with_response(body="data: x"), "not a list"),
        (with_response(status="200"), "status"),
        (with_response(status=True), "status"),
        (with_response(status=None), "status"),
        (with_response(is_streaming="yes"), "is_streaming"),
        (with_response(event_ms="fast"), "event_ms"),
        (edited_request(), "does not match"),
    ],
)
def test_loads_errors_name_the_source_and_the_problem(text: str, says: str) -> None:
    with pytest.raises(RecordingFileError) as caught:
        loads(text, SOURCE)
    message = str(caught.value)
    assert SOURCE in message
    assert caught.value.path == SOURCE
    assert says in message
    assert "--record" in message


def test_loads_error_for_a_missing_response_body() -> None:
    doc = native()
    del doc["response"]["body"]
    with pytest.raises(RecordingFileError, match=r"response\.body is missing"):
        loads(json.dumps(doc), SOURCE)


def test_loads_error_for_a_missing_method() -> None:
    doc = native()
    del doc["request"]["method"]
    with pytest.raises(RecordingFileError, match="method"):
        loads(json.dumps(doc), SOURCE)


def test_loads_an_unknown_type_imports_nothing() -> None:
    text = with_response(body=[{"__type__": "tests_nonexistent_pkg_xyz.Evil", "__data__": {}}])
    with pytest.raises(RecordingFileError):
        loads(text, SOURCE)
    assert "tests_nonexistent_pkg_xyz" not in sys.modules


@pytest.mark.parametrize(
    "doc",
    [
        {**native(), "request": {**native()["request"], "headers": "x-api: 1"}},
        {**native(), "request": {**native()["request"], "headers": 5}},
        {**native(), "recorded": "yesterday"},
    ],
    ids=["headers-string", "headers-number", "recorded-string"],
)
def test_loads_error_for_sections_that_are_not_objects(doc: dict[str, Any]) -> None:
    with pytest.raises(RecordingFileError):
        loads(json.dumps(doc), SOURCE)


# --- recordable_headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "authorization",
        "AUTHORIZATION",
        "Api-Key",
        "api-key",
        "X-Api-Key",
        "x-api-key",
        "Cookie",
        "Set-Cookie",
        "SET-COOKIE",
        "Proxy-Authorization",
        "X-Stainless-Lang",
        "x-stainless-retry-count",
        "X-STAINLESS-OS",
    ],
)
def test_recordable_headers_drops_secrets_and_sdk_fingerprints(name: str) -> None:
    kept = recordable_headers({name: "secret-value", "Content-Type": "application/json"})
    assert kept == {"content-type": "application/json"}


def test_recordable_headers_keeps_the_rest_lower_cased_and_sorted() -> None:
    pairs = [
        ("X-Custom", "1"),
        ("Accept", "application/json"),
        ("Authorization", "Bearer sk-x"),
        ("Content-Type", "application/json"),
        ("Host", "127.0.0.1:8080"),
        ("User-Agent", "OpenAI/Python"),
        ("Content-Length", "42"),
        ("x-stainless-arch", "x64"),
    ]
    kept = recordable_headers(pairs)
    assert kept == {
        "accept": "application/json",
        "content-type": "application/json",
        "x-custom": "1",
    }
    assert list(kept) == sorted(kept)
    assert "Bearer sk-x" not in kept.values()
