"""The recording tap: what it keeps of each event, and when it hands back a recording."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from replay.core import typed_events
from replay.core.recorder import Recorder
from replay.core.recording import Recording, loads
from replay.core.request import request_info


def tap(content_type: str) -> Recorder:
    info = request_info("POST", "http://h/v1/chat/completions", [], b'{"model":"m"}')
    return Recorder(
        request=info,
        status=200,
        content_type=content_type,
        started=time.perf_counter(),
        server="http://h",
    )


def replayed(recording: Recording | None) -> bytes:
    assert recording is not None
    return b"".join(recording.chunks())


@pytest.mark.parametrize("data", ['"hi"', "5", "null", "true", "not json", "[DONE]"])
def test_non_object_events_replay_exactly_as_sent(data: str) -> None:
    recorder = tap("text/event-stream")
    wire = f"data: {data}\n\ndata: [DONE]\n\n".encode()
    recorder.feed(wire)
    assert replayed(recorder.finish()) == wire


@pytest.mark.parametrize("body", [b"", b'"hi"', b"Internal Server Error", b'{"a": [1, 2]}'])
def test_plain_bodies_replay_with_the_same_json_or_text(body: bytes) -> None:
    recorder = tap("application/json")
    recorder.feed(body)
    recording = recorder.finish()
    assert replayed(recording).replace(b" ", b"") == body.replace(b" ", b"")
    assert recorder.close() is None  # handed back once


def test_an_object_not_of_its_type_is_kept_plain_and_noted() -> None:
    recorder = tap("text/event-stream")
    bad = '{"object":"chat.completion.chunk","id":"x","created":1,"model":"m","choices":"oops"}'
    recorder.feed(f"data: {bad}\n\ndata: [DONE]\n\n".encode())
    recording = recorder.finish()
    [problem] = recorder.problems
    assert "ChatCompletionChunk" in problem and "choices" in problem
    assert replayed(recording).startswith(f"data: {bad}\n\n".encode())


def test_close_without_end_gives_nothing_and_close_after_done_gives_the_recording() -> None:
    recorder = tap("text/event-stream")
    recorder.feed(b'data: {"a":1}\n\n')
    assert recorder.close() is None
    recorder = tap("text/event-stream")
    recorder.feed(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    recording = recorder.close()  # the SDK closes the response once it read [DONE]
    assert recording is not None and recording.events == [{"a": 1}, "[DONE]"]


def test_the_recording_carries_the_request_hash_computed_once() -> None:
    recorder = tap("application/json")
    recorder.feed(b'{"a": 1}')
    recording = recorder.finish()
    assert recording is not None
    assert recording.hashed == recorder.request.key


MESSAGES_STREAM = sorted(
    (Path(__file__).resolve().parents[1] / "recordings").rglob("messages-*.json")
)


def live_messages_wire() -> bytes:
    """The bytes llama.cpp sent for a streamed /v1/messages (a committed real recording)."""
    for path in MESSAGES_STREAM:
        recording = loads(path.read_bytes(), str(path))
        if recording.is_streaming:
            return b"".join(recording.chunks())
    raise AssertionError("no streamed /v1/messages recording is committed")


def messages_tap() -> Recorder:
    info = request_info("POST", "http://h/v1/messages", [], b'{"model":"m","stream":true}')
    return Recorder(
        request=info, status=200, content_type="text/event-stream",
        started=time.perf_counter(), server="http://h",
    )  # fmt: skip


def test_a_named_stream_is_kept_typed_and_replays_the_same_bytes() -> None:
    wire = live_messages_wire()
    recorder = messages_tap()
    for start in range(0, len(wire), 7):  # cut anywhere, as the network does
        recorder.feed(wire[start : start + 7])
    recording = recorder.finish()
    assert recording is not None and recorder.problems == []
    assert all(typed_events.is_typed(element) for element in recording.events)
    assert b"".join(recording.chunks()) == wire


def test_without_the_anthropic_sdk_a_stream_is_kept_as_plain_json_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "anthropic" else real(name)
    )
    wire = live_messages_wire()
    recorder = messages_tap()
    recorder.feed(wire)
    recording = recorder.finish()
    problems = recorder.problems
    assert recording is not None and problems and "anthropic is not installed" in problems[0]
    assert not any(typed_events.is_typed(element) for element in recording.events)
    assert typed_events.event_of(recording.events[0])[0] == "message_start"
    assert b"".join(recording.chunks()) == wire  # replays the same, SDK or not
