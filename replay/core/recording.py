"""One recorded exchange and its file format. Pure: no I/O beyond the text given.

A file holds one exchange, with the top-level shape of the llama-stack recorder::

    {"version": 2, "key": <request hash>, "test": <pytest node id, or null when shared>,
     "request": {"method", "url", "headers", "body", "endpoint", "model"},
     "response": {"status", "content_type", "is_streaming", "body", "event_ms"},
     "recorded": {"at", "server", "server_model", "by"}}

``response.body`` is the list of stream events (each a typed element, plain JSON, or the
string of non-JSON data such as ``[DONE]``) when ``is_streaming``, else the one element.
Version-1 files (no ``test``) are read as shared recordings; llama-stack files (no
``version``) are read as they are.

Version 3 is version 2 with what typed events cannot say, and is written only then (every
other file keeps its version-2 bytes): ``response.raw``, the bytes the server sent, one
string per event (``{"base64": ...}`` where they are not UTF-8), which replay sends instead
of the events written anew; and ``response.ended``, ``client_closed`` or ``cut`` when the
answer did not end whole. See docs/recording-format.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from replay.core import jsonfast, sse, typed_events
from replay.core.hashing import normalize_endpoint, request_key, without_fields
from replay.core.jsonfast import EXACT, JsonWriter
from replay.core.replayable import header_problem
from replay.core.request import RequestInfo
from replay.errors import RecordingFileError

FORMAT_VERSION = 2  # a file whose response the typed events say in full
RAW_FORMAT_VERSION = 3  # a file that also keeps the raw bytes or how the answer ended
READABLE_VERSIONS = (1, 2, 3)  # version 1: the flat layout, no owner (read as shared)
# How a response ended: whole; closed by the client before its end (the events are those it
# read); cut by the server or the network (replay raises what a client gets then).
ENDINGS = ("complete", "client_closed", "cut")

# Never written, whatever the caller passes. Compared lower-case.
SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "cookie", "set-cookie", "proxy-authorization"}
)
# Transport details and SDK fingerprints that change between machines and say nothing about
# the exchange; left out so that a re-recording diffs only where the exchange changed.
_NOISE_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)


# Response headers a client acts on or reports; the rest (dates, server names) is noise.
_KEPT_RESPONSE_HEADERS = frozenset(
    {"retry-after", "retry-after-ms", "x-request-id", "request-id", "openai-organization",
     "openai-version", "www-authenticate"}
)  # fmt: skip


def kept_response_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """The response headers worth replaying: those a client acts on (``retry-after``,
    rate limits, request ids); never ``set-cookie``."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    kept = {
        name.lower(): value
        for name, value in pairs
        if name.lower() in _KEPT_RESPONSE_HEADERS or name.lower().startswith("x-ratelimit-")
    }
    return dict(sorted(kept.items()))


def recordable_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """The request headers worth keeping: no secrets, no transport noise, lower-case names."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    kept = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in SECRET_HEADERS or lower in _NOISE_HEADERS or lower.startswith("x-stainless"):
            continue
        kept[lower] = value
    return dict(sorted(kept.items()))


@dataclass(slots=True)
class Recording:
    """One request and the response the server gave it."""

    method: str
    url: str
    endpoint: str
    body: Any
    status: int
    content_type: str
    is_streaming: bool
    events: list[Any]
    headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    ignored: tuple[str, ...] = ()
    event_ms: list[float] | None = None
    recorded: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    native: bool = True  # False when read from a llama-stack recorder file
    # The writer that writes every value of it exactly (``jsonfast``: FAST when all of them
    # are plain JSON, which orjson writes as json does). Not in the file.
    writer: JsonWriter = field(default=EXACT, compare=False)
    test: str | None = None  # the pytest node id of the test that made it; None: shared
    # The request hash, once known: given by whoever hashed the request already (the
    # recorder), else computed on first use. A caller that changes the request of a
    # recording (method, url, endpoint, body, ignored) makes a new one with
    # ``dataclasses.replace(..., hashed=None)``.
    hashed: str | None = field(default=None, compare=False, repr=False)
    # The bytes the server sent, when typed events cannot say them (non-UTF-8 or multipart
    # bodies, the server's own JSON spacing): one per event, or one for the whole body.
    # Replay sends these; the events stay for readers, diffs, types and shaping by event.
    raw: list[bytes] | None = None
    ended: str = "complete"  # one of ENDINGS
    # True only from ``from_json`` for a file this library wrote (version 2), whose headers
    # were filtered when it was written: then they are not filtered again on every load.
    headers_filtered: InitVar[bool] = False

    def __post_init__(self, headers_filtered: bool) -> None:
        # The one place headers are filtered: whatever made the recording (the recorder, an
        # importer, a caller), it holds no secret header and no transport noise.
        if not headers_filtered:
            self.headers = recordable_headers(self.headers)
            self.response_headers = kept_response_headers(self.response_headers)

    @property
    def key(self) -> str:
        """The request hash this recording answers, computed once."""
        if self.hashed is None:
            self.hashed = self.request_hash()
        return self.hashed

    def request_hash(self) -> str:
        """The hash of the recorded request, computed now (``key`` may be the one its file
        stores)."""
        body = without_fields(self.body, self.ignored)
        query = urlsplit(self.url).query
        return request_key(self.method, self.endpoint, query, body, self.writer)

    def check_answers(self, request: RequestInfo) -> None:
        """RecordingFileError unless this recording, found by ``request``'s hash, was made for
        such a request. The bodies are compared first (a C-speed equality of parsed JSON);
        only when they differ (an ignored field, or a file edited by hand) is the recorded
        request hashed, so a replayed request is hashed once, where it entered."""
        same = (
            self.body == request.body
            and self.method == request.method
            and urlsplit(self.url).query == request.query
        )
        if not same and (key := self.request_hash()) != request.key:
            raise RecordingFileError(self.source or "<recording>", _edited(self.hashed, key))

    @property
    def format_version(self) -> int:
        """The version its file is written as: 3 only when it keeps raw bytes or an ending
        that version 2 cannot say, so that every other file keeps its version-2 bytes."""
        if self.raw is not None or self.ended != "complete":
            return RAW_FORMAT_VERSION
        return FORMAT_VERSION

    def chunks(self) -> Iterator[bytes]:
        """The response body as wire bytes: one chunk per stream event, or the whole body.
        The raw bytes when it keeps them; else JSON written compact with unicode kept, as
        servers send it."""
        if self.raw is not None:
            yield from self.raw
            return
        if not self.is_streaming:
            value = typed_events.payload(self.events[0])
            yield value.encode("utf-8") if isinstance(value, str) else self.writer.compact(value)
            return
        compact = self.writer.compact  # once per event: kept local
        for element in self.events:
            value = typed_events.payload(element)
            event, id = typed_events.event_of(element)
            if isinstance(value, str):  # "[DONE]", or text that was not JSON: may span lines
                yield sse.render(value, event, id)
            elif event is None and id is None:  # compact JSON has no line breaks
                yield b"data: " + compact(value) + b"\n\n"
            else:
                yield sse.render(compact(value).decode(), event, id)

    def to_json(self) -> dict[str, Any]:
        """The file's JSON object, keys in a fixed order."""
        response: dict[str, Any] = {
            "status": self.status,
            "content_type": self.content_type,
        }
        if self.response_headers:
            response["headers"] = self.response_headers
        response |= {
            "is_streaming": self.is_streaming,
            "body": self.events if self.is_streaming else self.events[0],
        }
        if self.event_ms is not None:
            response["event_ms"] = self.event_ms
        if self.raw is not None:
            raw = [raw_json(chunk) for chunk in self.raw]
            response["raw"] = raw if self.is_streaming else raw[0]
        if self.ended != "complete":
            response["ended"] = self.ended
        request: dict[str, Any] = {
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "body": self.body,
            "endpoint": self.endpoint,
            "model": self.model,
        }
        if self.ignored:
            request["ignore_fields"] = list(self.ignored)
        return {
            "version": self.format_version,
            "key": self.key,
            "test": self.test,
            "request": request,
            "response": response,
            "recorded": self.recorded,
        }


# Where a stream's events go in the text of the rest of its file: after the last key that
# precedes them. Unique: the request's keys are others, and a body's are indented further.
_BEFORE_EVENTS = '\n    "is_streaming": true\n  },\n  "recorded": '
# One event per line, as the SSE had it, with json's default ", " and ": " to be read by people.
_EVENT_LINE = json.JSONEncoder(ensure_ascii=False)


def dumps(recording: Recording) -> str:
    """The file text: indent 2, unicode kept, trailing newline; a stream's events one per
    line, and their times on one line, so that a re-recording diffs event by event and a
    thousand events are a thousand lines."""
    document = recording.to_json()
    if not recording.is_streaming:
        return recording.writer.pretty(document) + "\n"
    response = document["response"]
    events, times = response.pop("body"), response.pop("event_ms", None)
    raw, ended = response.pop("raw", None), response.pop("ended", None)
    text = recording.writer.pretty(document)
    inserted = f'\n    "is_streaming": true,\n    "body": {_one_per_line(events)}'
    if times is not None:
        inserted += f',\n    "event_ms": {_EVENT_LINE.encode(times)}'
    if raw is not None:
        inserted += f',\n    "raw": {_one_per_line(raw)}'
    if ended is not None:
        inserted += f',\n    "ended": {_EVENT_LINE.encode(ended)}'
    inserted += '\n  },\n  "recorded": '
    if text.count(_BEFORE_EVENTS) != 1:  # cannot happen with to_json's key order; be safe
        return recording.writer.pretty(recording.to_json()) + "\n"
    return text.replace(_BEFORE_EVENTS, inserted) + "\n"


def _one_per_line(values: list[Any]) -> str:
    lines = ",\n".join(f"      {_EVENT_LINE.encode(value)}" for value in values)
    return f"[\n{lines}\n    ]" if values else "[]"


def raw_json(chunk: bytes) -> str | dict[str, str]:
    """Raw bytes as the file holds them: the text if it is UTF-8, else ``{"base64": ...}``."""
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(chunk).decode("ascii")}


def _raw_bytes(value: Any, where: str, source: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except binascii.Error:
            pass
    raise RecordingFileError(source, f'{where} is not a string or {{"base64": ...}} of bytes')


def _raw_of(response: dict[str, Any], events: list[Any], streaming: bool, source: str) -> Any:
    """``response.raw`` (version 3), as bytes: one per event, or one for the whole body."""
    if "raw" not in response:
        return None
    value = response["raw"]
    if not streaming:
        return [_raw_bytes(value, "response.raw", source)]
    if not isinstance(value, list) or len(value) != len(events):
        raise RecordingFileError(
            source, f"response.raw is not a list of {len(events)} events, one per response.body"
        )
    return [_raw_bytes(item, f"response.raw[{index}]", source) for index, item in enumerate(value)]


def loads(
    text: str | bytes, source: str = "<string>", expected_key: str | None = None
) -> Recording:
    """A recording from file text, native or llama-stack; RecordingFileError names the problem.
    With ``expected_key``, the recording must answer that request hash."""
    try:
        document, writer = jsonfast.parse(text)
    except (ValueError, RecursionError) as error:
        raise RecordingFileError(source, f"not valid JSON ({error})") from None
    return from_json(document, source, expected_key, writer)


def from_json(
    document: Any,
    source: str = "<string>",
    expected_key: str | None = None,
    writer: JsonWriter = EXACT,
) -> Recording:
    """A recording from a parsed file (``writer``: the one ``jsonfast.parse`` handed back)."""
    if not isinstance(document, dict):
        raise RecordingFileError(
            source, f"the top level is a JSON {_kind(document)}, not an object"
        )
    if "version" in document and document["version"] not in READABLE_VERSIONS:
        raise RecordingFileError(
            source,
            f"format version {document['version']!r}; this pytest-llm-playback reads versions "
            f"{' and '.join(map(str, READABLE_VERSIONS))}",
        )
    test = document.get("test")
    if test is not None and not isinstance(test, str):
        raise RecordingFileError(source, "test is not a string (a pytest node id) or null")
    request = _section(document, "request", source)
    response = _section(document, "response", source)
    method = _field(request, "method", str, source)
    url = _field(request, "url", str, source)
    endpoint = request.get("endpoint") or normalize_endpoint(url)
    if not isinstance(endpoint, str):
        raise RecordingFileError(source, "request.endpoint is not a string")
    is_streaming = _field(response, "is_streaming", bool, source)
    if "body" not in response:
        raise RecordingFileError(source, "response.body is missing")
    body = response["body"]
    if is_streaming and not isinstance(body, list):
        raise RecordingFileError(source, "response.body of a streamed response is not a list")
    events = body if is_streaming else [body]
    bad = typed_events.first_bad_envelope(events)
    if bad is not None:
        raise RecordingFileError(source, f"response.body[{bad[0]}]: {bad[1]}")
    native = "version" in document
    status = _field(response, "status", int, source) if native else 200
    if not 100 <= status <= 599:
        raise RecordingFileError(source, f"response.status {status} is not an HTTP status")
    default_type = "text/event-stream" if is_streaming else "application/json"
    content_type = response.get("content_type", default_type) if native else default_type
    event_ms = response.get("event_ms")
    if event_ms is not None and not (
        isinstance(event_ms, list) and all(isinstance(t, int | float) for t in event_ms)
    ):
        raise RecordingFileError(source, "response.event_ms is not a list of numbers")
    headers = request.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise RecordingFileError(source, "request.headers is not an object of strings")
    response_headers = response.get("headers") or {}
    if not isinstance(response_headers, dict) or not all(
        isinstance(v, str) for v in response_headers.values()
    ):
        raise RecordingFileError(source, "response.headers is not an object of strings")
    ignored = request.get("ignore_fields") or []
    if not isinstance(ignored, list) or not all(isinstance(path, str) for path in ignored):
        raise RecordingFileError(source, "request.ignore_fields is not a list of strings")
    recorded = document.get("recorded") or {}
    if not isinstance(recorded, dict):
        raise RecordingFileError(source, "recorded is not an object")
    raw = _raw_of(response, events, is_streaming, source)
    ended = response.get("ended", "complete")
    if ended not in ENDINGS:
        raise RecordingFileError(source, f"response.ended {ended!r} is not one of {ENDINGS}")
    recording = Recording(
        method=method,
        url=url,
        endpoint=normalize_endpoint(endpoint),
        body=request.get("body"),
        status=status,
        content_type=str(content_type),
        is_streaming=is_streaming,
        events=events,
        headers=dict(headers),
        response_headers=response_headers,
        model=request.get("model"),
        ignored=tuple(ignored),
        event_ms=event_ms,
        recorded=dict(recorded),
        source=source,
        native=native,
        writer=writer,
        test=test,
        raw=raw,
        ended=ended,
        headers_filtered=document.get("version") in (FORMAT_VERSION, RAW_FORMAT_VERSION),
    )
    problem = header_problem(recording.content_type, recording.response_headers)
    if problem is not None:
        raise RecordingFileError(source, problem)
    stored_key = document.get("key")
    if native and expected_key is not None and stored_key == expected_key:
        # Found by its request hash (a store's lookup, on every replayed request): the
        # request was hashed where it entered, so it is not hashed again here; the player
        # holds the recording against that request (``check_answers``). Every other load
        # hashes the recorded request and refuses a file whose request was edited by hand.
        recording.hashed = stored_key
        return recording
    key = recording.key
    if native and stored_key != key:
        raise RecordingFileError(source, _edited(stored_key, key))
    if expected_key is not None and key != expected_key:
        raise RecordingFileError(
            source, f"it answers request hash {key}, but its name says {expected_key[:16]}"
        )
    return recording


def _edited(stored_key: object, key: str) -> str:
    return (
        f"its key {stored_key!r} does not match its request (hash {key}); "
        "the request was edited by hand"
    )


def _section(document: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        what = "missing" if value is None else f"a JSON {_kind(value)}, not an object"
        raise RecordingFileError(source, f"{name} is {what}")
    return value


def _field(section: dict[str, Any], name: str, kind: type, source: str) -> Any:
    value = section.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecordingFileError(source, f"field {name!r} is {value!r}, expected {kind.__name__}")
    return value


def _kind(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
