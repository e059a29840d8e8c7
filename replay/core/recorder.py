"""The recording tap: sees each response chunk as it passes and, once the response ended,
returns the finished recording to whoever drives it (the transport hands it to the
``Player``, which scans, writes and counts it). Pure.

What counts as ended (``replay.core.completeness``): a stream's protocol said so (``data: [DONE]``,
after which the openai SDK stops reading and closes the response, or Anthropic's and the
Responses API's last events), or the server ended a framed body cleanly. A stream closed
before either is truncated and is not recorded: a recording is never a stream that merely
stopped. A compressed body is kept decoded (``replay.core.content_decoding``).

"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from replay.core import jsonfast, sse, typed_events
from replay.core.completeness import complete_at_end, ends_stream
from replay.core.content_decoding import BodyDecoder
from replay.core.jsonfast import JsonWriter
from replay.core.product import LIBRARY
from replay.core.recording import Recording
from replay.core.request import RequestInfo
from replay.errors import LLMReplayError


@dataclass(slots=True)
class Recorder:
    """Collects one response as it streams past and stores it once it has ended."""

    request: RequestInfo
    status: int
    content_type: str
    started: float
    server: str
    response_headers: dict[str, str] = field(default_factory=dict)
    framed: bool = True  # content-length or chunked: the client raises if the body is cut
    decoder: BodyDecoder = field(default_factory=BodyDecoder)  # undoes content-encoding
    served_model: str | None = None  # what the server runs, when known better than its answer
    problems: list[str] = field(default_factory=list)  # objects kept as plain JSON
    _parser: sse.SSEParser = field(default_factory=sse.SSEParser)
    _events: list[sse.SSEEvent] = field(default_factory=list)
    _event_ms: list[float] = field(default_factory=list)
    _body: list[bytes] = field(default_factory=list)
    _done: bool = False
    _closed: bool = False

    @property
    def is_streaming(self) -> bool:
        """Whether the response is an event stream."""
        return self.content_type.startswith("text/event-stream")

    def feed(self, chunk: bytes) -> None:
        """Take one chunk the caller has just been handed."""
        self._take(self.decoder.feed(chunk) if self.decoder.decodes else chunk)

    def _take(self, chunk: bytes) -> None:
        """Keep decoded bytes: the body's, or the events they complete."""
        if not self.is_streaming:
            self._body.append(chunk)
            return
        for event in self._parser.feed(chunk):
            self._add(event)

    def finish(self) -> Recording | None:
        """The server ended the body: the recording of what came, if it is whole (None if
        truncated or already closed)."""
        if self.decoder.decodes:
            self._take(self.decoder.flush())
        if self.is_streaming:
            for event in self._parser.finish():
                self._add(event)
        body = None if self.is_streaming else b"".join(self._body)
        self._done = self._done or complete_at_end(
            self.framed, self.is_streaming, self.content_type, body
        )
        return self.close()

    def close(self) -> Recording | None:
        """The response is closed: the recording, once, if the response was whole; else
        None (a truncated stream is never recorded)."""
        if self._closed:
            return None
        self._closed = True
        if self._done and (why := self.decoder.problem) is not None:
            raise LLMReplayError(f"pytest-llm-playback: did not record {self.request.url}: {why}")
        return self._recording() if self._done else None

    def _add(self, event: sse.SSEEvent) -> None:
        # Only the text and its time while the stream runs: parsing and validating wait for
        # the end, so that recording takes as little CPU as it can from a server on the same
        # machine while it generates.
        self._event_ms.append(self._elapsed_ms())
        self._events.append(event)
        if ends_stream(event.data):
            self._done = True

    def _element(self, text: str) -> tuple[Any, JsonWriter]:
        """A JSON object or array as stored JSON (typed when known); anything else, JSON
        scalars included, as its text, so that it replays exactly as sent. And the writer that
        writes the element exactly (``jsonfast``)."""
        try:
            value, writer = jsonfast.parse(text)
        except ValueError:
            return text, jsonfast.FAST
        if isinstance(value, dict | list):
            return self._typed(value), writer
        return text, jsonfast.FAST

    def _typed(self, value: Any) -> Any:
        element = typed_events.encode(value, self.request.endpoint)
        if not typed_events.is_typed(element):
            return element
        missing = typed_events.sdk_missing(element[typed_events.TYPE_KEY])
        if missing is not None:
            self.problems.append(f"{missing}; kept as plain JSON")
            return value
        problem = typed_events.validate(element)
        if problem is None:
            return element
        self.problems.append(f"{problem}; kept as plain JSON")
        return value

    def _elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def _recording(self) -> Recording:
        if self.is_streaming:
            # "[DONE]" stays text; an event's name and id stay beside its element
            elements = [
                (typed_events.named(element, event.event, event.id), writer)
                for event in self._events
                for element, writer in [self._element(event.data)]
            ]
            event_ms = self._event_ms
        else:
            text = b"".join(self._body).decode("utf-8", errors="replace")
            elements, event_ms = [self._element(text)], [self._elapsed_ms()]
        events = [element for element, _ in elements]
        writer = self.request.writer
        for _, each in elements:
            writer = writer.also(each)
        first = typed_events.payload(events[0]) if events else None
        server_model = first.get("model") if isinstance(first, dict) else None
        body = self.request.body
        return Recording(
            method=self.request.method,
            url=self.request.url,
            endpoint=self.request.endpoint,
            body=body,
            status=self.status,
            content_type=self.content_type,
            is_streaming=self.is_streaming,
            events=events,
            headers=dict(self.request.headers),
            response_headers=self.response_headers,
            model=body.get("model") if isinstance(body, dict) else None,
            ignored=self.request.ignored,
            event_ms=event_ms,
            recorded={
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "server": self.server,
                "server_model": self.served_model or server_model,
                "by": LIBRARY,
            },
            writer=writer,
            hashed=self.request.key,
        )
