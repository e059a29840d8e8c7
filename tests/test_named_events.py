"""Named server-sent events (Anthropic Messages, OpenAI Responses): stored beside their typed
element, and replayed to the wire bytes the server sent. Checked on the committed recordings,
which the real llama.cpp server produced (scripts/main.sh), and on small hand-made events
where a shape no server sent here is needed (said at each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.core import sse, typed_events
from replay.core.recording import Recording, loads

REPO = Path(__file__).resolve().parents[1]
MESSAGES = sorted((REPO / "recordings").rglob("messages-*.json"))
RESPONSES = sorted((REPO / "recordings").rglob("responses-*.json"))


def streamed(paths: list[Path]) -> list[Recording]:
    recordings = [loads(path.read_bytes(), str(path)) for path in paths]
    return [recording for recording in recordings if recording.is_streaming]


@pytest.mark.parametrize("recording", streamed(MESSAGES + RESPONSES), ids=lambda r: r.source)
def test_a_named_stream_replays_its_event_lines(recording: Recording) -> None:
    wire = b"".join(recording.chunks())
    events = sse.parse(wire)
    assert [event.event for event in events] == [
        typed_events.event_of(element)[0] for element in recording.events
    ]
    assert all(event.event for event in events)  # llama.cpp names every event of these APIs
    assert [json.loads(event.data) for event in events] == [
        typed_events.payload(element) for element in recording.events
    ]
    # exactly the bytes llama.cpp writes: "event: <name>\ndata: <json>\n\n" per event
    first = recording.events[0]
    name = typed_events.event_of(first)[0]
    compact = json.dumps(typed_events.payload(first), ensure_ascii=False, separators=(",", ":"))
    assert wire.startswith(f"event: {name}\ndata: {compact}\n\n".encode())


def test_anthropic_streams_are_typed_by_their_sdk_names() -> None:
    [*recordings] = streamed(MESSAGES)
    assert recordings
    for recording in recordings:
        names = [element[typed_events.TYPE_KEY] for element in recording.events]
        assert names[0] == typed_events.ANTHROPIC_EVENTS["message_start"]
        assert names[-1] == typed_events.ANTHROPIC_EVENTS["message_stop"]
        assert typed_events.event_of(recording.events[-1])[0] in typed_events.STREAM_END_EVENTS
        assert typed_events.invalid_elements(recording.events) == []


def test_responses_streams_are_typed_by_their_sdk_names() -> None:
    [*recordings] = streamed(RESPONSES)
    assert recordings
    for recording in recordings:
        assert (
            recording.events[-1][typed_events.TYPE_KEY]
            == typed_events.RESPONSES_EVENTS["response.completed"]
        )
        assert typed_events.invalid_elements(recording.events) == []


def test_named_keeps_the_element_and_adds_the_name_and_id() -> None:
    # hand-made: an id and a non-JSON named event, which llama.cpp does not send
    element = {
        typed_events.TYPE_KEY: typed_events.ANTHROPIC_MESSAGE,
        typed_events.DATA_KEY: {"type": "message"},
    }
    assert typed_events.named(element, None) is element
    kept = typed_events.named(element, "message", "7")
    assert kept == {**element, typed_events.EVENT_KEY: "message", typed_events.ID_KEY: "7"}
    assert typed_events.payload(kept) == {"type": "message"}
    assert typed_events.event_of(kept) == ("message", "7")
    text = typed_events.named("keep-alive", "ping")
    assert typed_events.payload(text) == "keep-alive" and not typed_events.is_typed(text)
    assert typed_events.first_bad_envelope([kept, text]) is None


def test_an_event_with_a_name_and_an_id_renders_both() -> None:
    assert sse.render("x", "ping", "1") == b"event: ping\nid: 1\ndata: x\n\n"
    assert sse.render("x", None, "1") == b"id: 1\ndata: x\n\n"
    assert sse.render("a\nb", "e") == b"event: e\ndata: a\ndata: b\n\n"
    [event] = sse.parse(sse.render("a\nb", "e", "9"))
    assert (event.data, event.event, event.id) == ("a\nb", "e", "9")


@pytest.mark.parametrize(
    "element",
    [
        {typed_events.DATA_KEY: {}, typed_events.EVENT_KEY: "a\nb"},
        {typed_events.DATA_KEY: {}, typed_events.EVENT_KEY: 3},
        {typed_events.EVENT_KEY: "x"},
        {typed_events.DATA_KEY: {}, typed_events.EVENT_KEY: "x", "extra": 1},
    ],
)
def test_a_broken_named_event_is_reported(element: dict[str, object]) -> None:
    # hand-made error paths: a file edited by hand
    bad = typed_events.first_bad_envelope([element])
    assert bad is not None and bad[0] == 0


def test_a_type_whose_sdk_is_missing_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "anthropic" else real(name)
    )
    element = {
        typed_events.TYPE_KEY: typed_events.ANTHROPIC_MESSAGE,
        typed_events.DATA_KEY: {"type": 1},
    }
    assert typed_events.sdk_missing(typed_events.ANTHROPIC_MESSAGE) is not None
    assert "pip install anthropic" in str(typed_events.sdk_missing(typed_events.ANTHROPIC_MESSAGE))
    assert typed_events.validate(element) is None
