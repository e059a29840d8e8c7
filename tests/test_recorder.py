"""The recording tap: what it keeps of each event and when it writes."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from replay import typed
from replay.recorder import Recorder, request_info
from replay.recording import loads
from replay.store import MemoryStore


def tap(content_type: str, store: MemoryStore, seen: list[tuple[str, list[str]]]) -> Recorder:
    info = request_info("POST", "http://h/v1/chat/completions", [], b'{"model":"m"}')
    return Recorder(
        request=info,
        index=0,
        status=200,
        content_type=content_type,
        store=store,
        started=time.perf_counter(),
        server="http://h",
        on_saved=lambda path, problems: seen.append((path, problems)),
    )


def replayed(store: MemoryStore) -> bytes:
    info = request_info("POST", "http://h/v1/chat/completions", [], b'{"model":"m"}')
    recording = store.get(info.key, 0, info.endpoint)
    assert recording is not None
    return b"".join(recording.chunks())


@pytest.mark.parametrize("data", ['"hi"', "5", "null", "true", "not json", "[DONE]"])
def test_non_object_events_replay_exactly_as_sent(data: str) -> None:
    store, seen = MemoryStore(), []
    recorder = tap("text/event-stream", store, seen)
    wire = f"data: {data}\n\ndata: [DONE]\n\n".encode()
    recorder.feed(wire)
    recorder.finish()
    assert replayed(store) == wire


@pytest.mark.parametrize("body", [b"", b'"hi"', b"Internal Server Error", b'{"a": [1, 2]}'])
def test_plain_bodies_replay_with_the_same_json_or_text(body: bytes) -> None:
    store, seen = MemoryStore(), []
    recorder = tap("application/json", store, seen)
    recorder.feed(body)
    recorder.finish()
    assert replayed(store).replace(b" ", b"") == body.replace(b" ", b"")
    assert len(seen) == 1


def test_an_object_not_of_its_type_is_kept_plain_and_noted() -> None:
    store, seen = MemoryStore(), []
    recorder = tap("text/event-stream", store, seen)
    bad = '{"object":"chat.completion.chunk","id":"x","created":1,"model":"m","choices":"oops"}'
    recorder.feed(f"data: {bad}\n\ndata: [DONE]\n\n".encode())
    recorder.finish()
    [(_, problems)] = seen
    assert "ChatCompletionChunk" in problems[0] and "choices" in problems[0]
    assert replayed(store).startswith(f"data: {bad}\n\n".encode())


def test_close_without_end_writes_nothing_and_close_after_done_writes() -> None:
    store, seen = MemoryStore(), []
    recorder = tap("text/event-stream", store, seen)
    recorder.feed(b'data: {"a":1}\n\n')
    recorder.close()
    assert seen == []
    recorder = tap("text/event-stream", store, seen)
    recorder.feed(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    recorder.close()  # the SDK closes the response once it read [DONE]
    assert len(seen) == 1


MESSAGES_STREAM = sorted(
    (Path(__file__).resolve().parents[1] / "recordings" / "messages").glob("*.json")
)


def live_messages_wire() -> bytes:
    """The bytes llama.cpp sent for a streamed /v1/messages (a committed real recording)."""
    for path in MESSAGES_STREAM:
        recording = loads(path.read_bytes(), str(path))
        if recording.is_streaming:
            return b"".join(recording.chunks())
    raise AssertionError("no streamed /v1/messages recording is committed")


def messages_tap(store: MemoryStore, seen: list[tuple[str, list[str]]]) -> Recorder:
    info = request_info("POST", "http://h/v1/messages", [], b'{"model":"m","stream":true}')
    return Recorder(
        request=info, index=0, status=200, content_type="text/event-stream", store=store,
        started=time.perf_counter(), server="http://h",
        on_saved=lambda path, problems: seen.append((path, problems)),
    )  # fmt: skip


def test_a_named_stream_is_kept_typed_and_replays_the_same_bytes() -> None:
    wire = live_messages_wire()
    store, seen = MemoryStore(), []
    recorder = messages_tap(store, seen)
    for start in range(0, len(wire), 7):  # cut anywhere, as the network does
        recorder.feed(wire[start : start + 7])
    recorder.finish()
    [(_, problems)] = seen
    assert problems == []
    [recording] = store.neighbours("/v1/messages")
    assert all(typed.is_typed(element) for element in recording.events)
    assert b"".join(recording.chunks()) == wire


def test_without_the_anthropic_sdk_a_stream_is_kept_as_plain_json_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "anthropic" else real(name)
    )
    wire = live_messages_wire()
    store, seen = MemoryStore(), []
    recorder = messages_tap(store, seen)
    recorder.feed(wire)
    recorder.finish()
    [(_, problems)] = seen
    assert problems and "anthropic is not installed" in problems[0]
    [recording] = store.neighbours("/v1/messages")
    assert not any(typed.is_typed(element) for element in recording.events)
    assert typed.event_of(recording.events[0])[0] == "message_start"
    assert b"".join(recording.chunks()) == wire  # replays the same, SDK or not
