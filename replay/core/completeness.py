"""When a response has ended, so that the recorder may write it. Pure.

A stream is complete only when its protocol says so: OpenAI's ``data: [DONE]``, Anthropic's
``message_stop`` event, the Responses API's ``response.completed``, ``response.failed`` or
``response.incomplete`` — or when its body was framed (``content-length`` or chunked transfer
encoding, or HTTP/2) and the framing ended cleanly, which the HTTP client checks for us. A
close-delimited body (no length, no chunking) that ends without such a marker may be a server
that died: it is truncation, and is not written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from replay.core.typed_events import (
    STREAM_END_EVENTS,  # the last event's ``type`` (Anthropic, Responses)
)

DONE = "[DONE]"
# The endpoints whose streams end with ``data: [DONE]`` (OpenAI's completions APIs); Anthropic,
# the Responses API and Gemini end theirs otherwise, or by closing.
_DONE_ENDPOINTS = ("/chat/completions", "/completions")


def ends_with_done(endpoint: str) -> bool:
    """Whether ``endpoint``'s streams end with ``data: [DONE]``."""
    return endpoint.endswith(_DONE_ENDPOINTS)


def ends_stream(data: str) -> bool:
    """Whether one event's data is its protocol's end of stream. Called for every event while
    recording: a substring test comes before any parsing."""
    if data == DONE:
        return True
    if not any(end in data for end in STREAM_END_EVENTS):
        return False
    try:
        value = json.loads(data)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("type") in STREAM_END_EVENTS


def framed(headers: Mapping[str, str], http_version: object = None) -> bool:
    """Whether the body's end is marked by HTTP itself (so that a cut is an error the client
    raises, not a clean end): a ``content-length``, chunked transfer encoding, or HTTP/2+.
    ``headers`` has lower-case names."""
    if http_version in (b"HTTP/2", b"HTTP/3", "HTTP/2", "HTTP/3"):
        return True
    if "content-length" in headers:
        return True
    return "chunked" in headers.get("transfer-encoding", "").lower()


def complete_at_end(
    is_framed: bool, is_streaming: bool, content_type: str, body: bytes | None
) -> bool:
    """Whether a response whose body has just ended (without an end-of-stream marker) is whole:
    a framed body is; a close-delimited stream is not; a close-delimited JSON body is when it
    parses."""
    if is_framed:
        return True
    if is_streaming:
        return False
    if body is not None and is_json_type(content_type):
        try:
            json.loads(body)
        except ValueError:
            return False
    return True


def is_json_type(content_type: str) -> bool:
    """``application/json``, ``application/problem+json`` and the like."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
