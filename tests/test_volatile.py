"""What a re-recording may change and still keep the old file: ids and times, also where the
Anthropic and Responses APIs wrap them in an event's message, response or item. The
recordings are the real ones in recordings/; the changed copies are made here, as a
re-recording of the same answer would make them."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from replay.core import typed_events
from replay.core.recording import Recording, loads
from replay.core.volatile import same_answer

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def real(pattern: str, streaming: bool) -> Recording:
    for path in sorted(RECORDINGS.rglob(pattern)):
        recording = loads(path.read_bytes(), str(path))
        if recording.is_streaming == streaming:
            return recording
    raise AssertionError(f"no committed recording {pattern} (streaming={streaming})")


def rewritten(recording: Recording, change: Any) -> Recording:
    """A copy whose every event payload went through ``change`` (in place, on a deep copy)."""
    events = copy.deepcopy(recording.events)
    for event in events:
        payload = typed_events.payload(event)
        if isinstance(payload, dict):
            change(payload)
    return dataclasses.replace(recording, events=events)


def new_ids_and_times(payload: dict[str, Any]) -> None:
    for value in (payload, payload.get("message"), payload.get("response"), payload.get("item")):
        if isinstance(value, dict):
            for key in ("id", "created", "created_at", "completed_at", "item_id"):
                if key in value:
                    value[key] = 1 if isinstance(value[key], int) else "another-id"
            for item in value.get("output") or []:
                if isinstance(item, dict) and "id" in item:
                    item["id"] = "msg_another"


@pytest.mark.parametrize(
    ("pattern", "streaming"),
    [
        ("messages-*.json", True),
        ("responses-*.json", True),
        ("responses-*.json", False),
        ("chat_completions-*.json", True),
    ],
)
def test_new_ids_and_times_are_the_same_answer(pattern: str, streaming: bool) -> None:
    recording = real(pattern, streaming)
    again = rewritten(recording, new_ids_and_times)
    assert again.events != recording.events  # the copy really has other ids or times
    assert same_answer(recording, again)


def test_another_text_is_another_answer() -> None:
    recording = real("messages-*.json", True)

    def other_text(payload: dict[str, Any]) -> None:
        delta = payload.get("delta")
        if isinstance(delta, dict) and "text" in delta:
            delta["text"] += "!"

    assert not same_answer(recording, rewritten(recording, other_text))


def test_an_id_below_the_wrapped_objects_counts() -> None:
    """A tool call's id inside a content block is a reference, not noise."""
    recording = real("responses-*.json", False)

    def other_content(payload: dict[str, Any]) -> None:
        payload["output"][0]["content"][0]["id"] = "part_other"

    assert not same_answer(recording, rewritten(recording, other_content))
