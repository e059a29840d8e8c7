"""Server-sent events: an incremental parser over raw bytes and a renderer. Pure.

Written here rather than taken from httpx-sse: that library parses the decoded text of an
``httpx.Response``; the recorder needs to parse the raw byte chunks it passes through (the same
code for ``httpx`` and ``httpx2``, which httpx-sse does not know) without holding them back.
Follows the WHATWG event-stream rules: ``\\n``, ``\\r\\n`` or ``\\r`` line ends, ``data:`` with
or without one space, comments, multi-line data, and an event only at a blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_END_OF_LINE = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event."""

    data: str
    event: str | None = None
    id: str | None = None


class SSEParser:
    """Feed byte chunks cut anywhere, get whole events back in order."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._at_start = True

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events completed by ``chunk``."""
        buffer = self._buffer + chunk
        if self._at_start:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                self._buffer = buffer
                return []  # could still be a byte-order mark
            self._at_start = False
            buffer = buffer.removeprefix(_BOM)
        events: list[SSEEvent] = []
        start = 0
        for match in _END_OF_LINE.finditer(buffer):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # may be the first half of "\r\n": wait for the next byte
            event = self._line(buffer[start : match.start()])
            start = match.end()
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        return events

    def finish(self) -> list[SSEEvent]:
        """Events completed by the end of the stream (a lone ``\\r`` was a line end)."""
        events = []
        if self._buffer.endswith(b"\r"):
            events = self.feed(b"\n")
        # Per the standard, an event not closed by a blank line is discarded at the end.
        self._buffer = b""
        self._data = []
        return events

    @property
    def pending(self) -> bool:
        """Whether bytes or an unfinished event are held back."""
        return bool(self._buffer or self._data)

    def _line(self, raw: bytes) -> SSEEvent | None:
        # Line ends are ASCII and never inside a UTF-8 sequence, so a whole line decodes alone.
        line = raw.decode("utf-8", errors="replace")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = None
            return None
        event = SSEEvent("\n".join(self._data), self._event, self._id)
        self._data = []
        self._event = None
        return event


def parse(body: bytes) -> list[SSEEvent]:
    """All events of a whole body."""
    parser = SSEParser()
    return parser.feed(body) + parser.finish()


def render(data: str, event: str | None = None, id: str | None = None) -> bytes:
    """One event as wire bytes: ``event: <name>`` and ``id: <id>`` when it has them (in that
    order, as llama.cpp, Anthropic and OpenAI send them), ``data: <line>`` per line of data,
    then a blank line. An event with neither is the ``data:`` lines alone, as before."""
    head = ""
    if event is not None:
        head = f"event: {event}\n"
    if id is not None:
        head += f"id: {id}\n"
    if "\n" not in data:
        return f"{head}data: {data}\n\n".encode()
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"{head}{lines}\n".encode()
