"""What changes on every call and says nothing about the answer: response ids, creation
times, the server's port and request id, timings, when the file was written. A re-recording
that differs from the file only there keeps the file as it is, byte for byte, so that a
re-recorded suite whose answers did not change leaves nothing to review. Pure."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from replay.core import typed_events
from replay.core.recording import Recording

# Keys of a response object (its top level, where servers put them) that differ from call to
# call. Only the top level, and the objects an event wraps (below): elsewhere an ``id`` is a
# model's name or a tool call's reference.
VOLATILE_FIELDS = frozenset(
    {"id", "created", "created_at", "completed_at", "item_id", "timings", "system_fingerprint"}
)
# Where the Anthropic and Responses APIs' events wrap a whole object with an id and times of its
# own (``message_start``'s message, ``response.*``'s response, ``output_item.*``'s item), and a
# Response's list of output items.
WRAPPED = frozenset({"message", "response", "item"})
OUTPUT_LISTS = frozenset({"output"})
# Response headers that differ from call to call.
VOLATILE_HEADERS = frozenset({"x-request-id", "request-id"})
# What the ``recorded`` section holds that differs from run to run.
VOLATILE_RECORDED = frozenset({"at", "server"})


def same_answer(old: Recording, new: Recording) -> bool:
    """Whether ``new`` records the same exchange as ``old``, up to what changes on every call."""
    return stable(old) == stable(new)


def stable(recording: Recording) -> dict[str, Any]:
    """The parts of a recording that a re-recording of the same answer reproduces."""
    return {
        "test": recording.test,
        "method": recording.method,
        "url": _without_port(recording.url),
        "headers": recording.headers,
        "body": recording.body,
        "ignored": recording.ignored,
        "status": recording.status,
        "content_type": recording.content_type,
        "is_streaming": recording.is_streaming,
        "response_headers": {
            name: value
            for name, value in recording.response_headers.items()
            if name not in VOLATILE_HEADERS
        },
        "events": [_without_volatile(typed_events.payload(event)) for event in recording.events],
        "types": [_type_of(event) for event in recording.events],
        "recorded": {
            name: value
            for name, value in recording.recorded.items()
            if name not in VOLATILE_RECORDED
        },
    }


def _without_volatile(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    stable = {}
    for key, item in value.items():
        if key in VOLATILE_FIELDS:
            continue
        if key in WRAPPED:
            item = _without_volatile(item)
        elif key in OUTPUT_LISTS and isinstance(item, list):
            item = [_without_volatile(element) for element in item]
        stable[key] = item
    return stable


def _type_of(event: Any) -> Any:
    return event.get(typed_events.TYPE_KEY) if isinstance(event, dict) else None


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or ""))
