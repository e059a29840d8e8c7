"""Whether a recording's response can be replayed to an HTTP client and read by the SDK. Pure.

``header_problem`` runs on every load (a few headers): a header httpx cannot encode would
otherwise fail inside the transport, where the SDK retries it and hides it behind "Connection
error". ``body_problems`` and ``raw_problems`` are for failure paths and ``llm-playback
verify`` only, never the hit path: text where JSON belongs (a body that is not JSON for a
JSON content type, binary garbage such as a compressed body read as text, a stream element
``42`` or ``"garbage {"``) replays as it is, and when a test that read it fails, its report
names the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from replay.core import sse, typed_events
from replay.core.completeness import DONE, is_json_type


def header_problem(content_type: str, headers: Mapping[str, str]) -> str | None:
    """What keeps the response headers from being sent: a value that is not printable ASCII
    (httpx sends headers as ASCII; a line break would split one)."""
    for name, value in [("content_type", content_type), *headers.items()]:
        if not (name.isascii() and value.isascii() and value.isprintable()):
            where = "response.content_type" if name == "content_type" else f"header {name!r}"
            return (
                f"response {where} is {value!r}, not printable ASCII: HTTP cannot send it "
                "(write it in ASCII, or re-record)"
            )
    return None


def body_problems(
    events: list[Any], is_streaming: bool, content_type: str, status: int
) -> list[tuple[int, str]]:
    """Each element the openai SDK cannot read back as JSON: its index and what is wrong."""
    found: list[tuple[int, str]] = []
    if not is_streaming:
        body = events[0] if events else None
        if (
            isinstance(body, str)
            and body
            and status < 400
            and is_json_type(content_type)
            and not _is_json(body)
        ):
            problem = f"is text that is not JSON ({_shown(body)}), for content type {content_type}"
            found.append((0, problem + _garbage(body)))
        return found
    for index, element in enumerate(events):
        if isinstance(element, bool | int | float) or element is None:
            problem = f"is the JSON {json.dumps(element)}: a stream element is an object, an array"
            found.append((index, problem + " or the text of an event"))
        elif isinstance(element, str) and element != DONE and not _is_json(element):
            problem = f"is text that is not JSON ({_shown(element)})"
            found.append((index, problem + _garbage(element)))
    return found


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _garbage(text: str) -> str:
    """A note when text looks like binary bytes read as text (compressed, say)."""
    odd = sum(
        1 for char in text if char == "\ufffd" or (not char.isprintable() and char not in "\n\r\t")
    )
    if text and odd / len(text) > 0.05:
        return "; it looks like binary data (a compressed body saved as text?)"
    return ""


def raw_problems(
    raw: list[bytes], events: list[Any], is_streaming: bool, content_type: str
) -> list[tuple[int, str]]:
    """Where the raw bytes a version-3 file keeps do not carry its typed events: replay sends
    the bytes, readers and the SDK types read the events, and the two must agree. Each raw
    event's SSE data (or the raw body) is held against its event's payload as JSON."""
    found = []
    for index, (chunk, element) in enumerate(zip(raw, events, strict=True)):
        payload = typed_events.payload(element)
        if is_streaming and content_type.startswith("text/event-stream"):
            data = [event.data for event in sse.parse(chunk)]
            if len(data) != 1:
                found.append((index, f"holds {len(data)} server-sent events, not one"))
                continue
            text = data[0]
        elif is_json_type(content_type) or not is_streaming:
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue  # bytes no event can say (audio, an image): what raw is for
        else:
            continue  # NDJSON or other framing: the bytes are the body, nothing to hold them to
        if isinstance(payload, str):
            same = text == payload
        else:
            try:
                same = json.loads(text) == payload
            except ValueError:
                same = False
        if not same:
            found.append((index, f"does not carry response.body[{index}]: {_shown(text)}"))
    return found
