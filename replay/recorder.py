"""The recording tap: sees each response chunk as it passes, keeps a recording only when the
response ended. Pure apart from the ``Store`` it is handed.

What counts as ended: the server closed a complete body, or a stream sent ``data: [DONE]``
(the openai SDK stops reading there and closes the response). A stream closed before either
is truncated and is not written: a recording is never a stream that merely stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from replay import jsonfast, sse, typed
from replay.errors import SecretInRecording
from replay.keys import normalize_endpoint, parse_body, request_key, without_fields
from replay.recording import Recording, dumps, kept_response_headers, recordable_headers
from replay.redaction import Redaction
from replay.secrets import find_secrets
from replay.store import Store

LIBRARY = "pytest-llm-replay 0.1.0"
DONE = "[DONE]"


@dataclass(slots=True)
class RequestInfo:
    """What the core knows of a request: enough to hash it and to record it."""

    method: str
    url: str
    endpoint: str
    query: str
    body: Any
    key: str
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    redaction: Redaction = field(default_factory=Redaction)
    ignored: tuple[str, ...] = ()
    plain: bool = False  # the body is plain JSON (replay.jsonfast)

    @property
    def headers(self) -> dict[str, str]:
        """The headers a recording keeps: no secrets, no transport noise, nothing redacted.
        Worked out only when recording."""
        kept = recordable_headers(self.raw_headers)
        return {name: value for name, value in kept.items() if self.redaction.keep_header(name)}


@dataclass(slots=True)
class Recorder:
    """Collects one response as it streams past and stores it once it has ended."""

    request: RequestInfo
    index: int
    status: int
    content_type: str
    store: Store
    started: float
    server: str
    response_headers: dict[str, str] = field(default_factory=dict)
    on_saved: Callable[[str, list[str]], None] = lambda path, problems: None
    problems: list[str] = field(default_factory=list)
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
        if not self.is_streaming:
            self._body.append(chunk)
            return
        for event in self._parser.feed(chunk):
            self._add(event)

    def finish(self) -> None:
        """The server ended the body: keep what came."""
        if self.is_streaming:
            for event in self._parser.finish():
                self._add(event)
        self._done = True
        self.close()

    def close(self) -> None:
        """The response is closed: write the recording if the response was whole."""
        if self._closed:
            return
        self._closed = True
        if self._done:
            recording = self._recording()
            text = dumps(recording)
            secrets = find_secrets(text, self.request.redaction.compiled)
            if secrets:
                where = self.store.describe(recording.key, self.index, recording.endpoint)
                raise SecretInRecording(
                    f"pytest-llm-replay: did not write {where}: it would hold what looks like "
                    f"a secret ({'; '.join(secrets[:5])}). Keep keys out of request bodies, or "
                    "name the field in the ini setting llm_replay_redact_body (or the header in "
                    "llm_replay_redact_headers) so that it is written as <redacted>."
                )
            self.on_saved(self.store.put(recording, self.index, text), self.problems)

    def _add(self, event: sse.SSEEvent) -> None:
        # Only the text and its time while the stream runs: parsing and validating wait for
        # the end, so that recording takes as little CPU as it can from a server on the same
        # machine while it generates.
        self._event_ms.append(self._elapsed_ms())
        self._events.append(event)
        if event.data == DONE:
            self._done = True

    def _element(self, text: str) -> tuple[Any, bool]:
        """A JSON object or array as stored JSON (typed when known); anything else, JSON
        scalars included, as its text, so that it replays exactly as sent. And whether the
        element is plain JSON (``jsonfast``)."""
        try:
            value, plain = jsonfast.parse(text)
        except ValueError:
            return text, True
        return (self._typed(value), plain) if isinstance(value, dict | list) else (text, True)

    def _typed(self, value: Any) -> Any:
        element = typed.encode(value, self.request.endpoint)
        if not typed.is_typed(element):
            return element
        missing = typed.sdk_missing(element[typed.TYPE_KEY])
        if missing is not None:
            self.problems.append(f"{missing}; kept as plain JSON")
            return value
        problem = typed.validate(element)
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
                (typed.named(element, event.event, event.id), plain)
                for event in self._events
                for element, plain in [self._element(event.data)]
            ]
            event_ms = self._event_ms
        else:
            text = b"".join(self._body).decode("utf-8", errors="replace")
            elements, event_ms = [self._element(text)], [self._elapsed_ms()]
        events = [element for element, _ in elements]
        plain = self.request.plain and all(plain for _, plain in elements)
        first = typed.payload(events[0]) if events else None
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
            headers=self.request.headers,
            response_headers=kept_response_headers(self.response_headers),
            model=body.get("model") if isinstance(body, dict) else None,
            ignored=self.request.ignored,
            event_ms=event_ms,
            recorded={
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "server": self.server,
                "server_model": server_model,
                "by": LIBRARY,
            },
            plain=plain,
        )


def request_info(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: bytes,
    redaction: Redaction | None = None,
    ignored: tuple[str, ...] = (),
) -> RequestInfo:
    """Hash and describe a request: redacted fields replaced, ignored fields left out of the
    hash (but kept in the recording)."""
    redaction = redaction or Redaction()
    parts = urlsplit(url)
    endpoint = normalize_endpoint(parts.path)
    parsed, plain = parse_body(content)
    body = redaction.body(parsed)
    return RequestInfo(
        method=method.upper(),
        url=url,
        endpoint=endpoint,
        query=parts.query,
        body=body,
        key=request_key(method, endpoint, parts.query, without_fields(body, ignored), plain),
        raw_headers=headers,
        redaction=redaction,
        ignored=ignored,
        plain=plain,
    )
