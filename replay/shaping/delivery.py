"""Sends what a ``Shaper`` planned, through a flavour's (``httpx``/``httpx2``) classes: the
waits, the injected error responses and the shaped body stream. The thin edge over
``replay.shaping.plan``.

Waits honour the client's read timeout as a socket read would: a wait longer than the
request's ``read`` timeout ends, after that timeout, in the flavour's ``ReadTimeout``. Sync
readers sleep with ``time.sleep``; async readers with ``anyio.sleep`` (asyncio or trio, as
httpx itself supports), so the event loop runs on while a paced stream waits. A cut stream
ends with the error a client gets when the server dies mid-body.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from replay.core.hashing import normalize_endpoint
from replay.core.recording import Recording
from replay.shaping.faults import FailWith, error_body
from replay.shaping.plan import Delivery, Shaper

# What httpx (through httpcore and h11) says when a server closes a chunked stream early.
INCOMPLETE = (
    "peer closed connection without sending complete message body (incomplete chunked read)"
)
TIMED_OUT = "timed out"  # httpcore's message for a read timeout


def endpoint_of(request: Any) -> str:
    """The normalised endpoint of a flavour request."""
    return normalize_endpoint(urlsplit(str(request.url)).path)


def read_timeout(request: Any) -> float | None:
    """The request's read timeout in seconds (httpx puts it in ``extensions``), or None."""
    timeout = request.extensions.get("timeout")
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, int | float) else None


def wait(http: Any, request: Any, seconds: float) -> None:
    """Wait before answering; the flavour's ``ReadTimeout`` if that outlasts the timeout."""
    if seconds <= 0:
        return
    limit = read_timeout(request)
    if limit is not None and seconds > limit:
        time.sleep(limit)
        raise http.ReadTimeout(TIMED_OUT, request=request)
    time.sleep(seconds)


async def async_wait(http: Any, request: Any, seconds: float) -> None:
    """``wait`` for async clients: the event loop runs on meanwhile."""
    if seconds <= 0:
        return
    import anyio

    limit = read_timeout(request)
    if limit is not None and seconds > limit:
        await anyio.sleep(limit)
        raise http.ReadTimeout(TIMED_OUT, request=request)
    await anyio.sleep(seconds)


def failure_response(http: Any, request: Any, failure: FailWith) -> Any:
    """The injected error response."""
    kind = "text/plain; charset=utf-8" if isinstance(failure.body, str) else "application/json"
    headers = {"content-type": kind, **{name.lower(): v for name, v in failure.headers.items()}}
    return http.Response(
        status_code=failure.status,
        headers=headers,
        content=error_body(failure, endpoint_of(request)),
        request=request,
    )


def shaped_stream(http: Any, shaper: Shaper, recording: Recording, request: Any) -> Any:
    """The body of ``recording`` as ``shaper`` plans it, timed from now."""
    started = time.perf_counter()
    delivery = shaper.body(
        list(recording.chunks()), recording.event_ms, recording.method, recording.endpoint
    )
    if recording.ended == "cut":  # the server cut it: so does replay, after what it sent
        delivery = Delivery(delivery.pieces, cut=True)
    return _stream_class(http)(delivery, started, read_timeout(request), request)


@cache
def _stream_class(http: Any) -> type:
    class ShapedStream(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc]
        """Pieces at their due times, to sync or async readers; then the cut, if any."""

        def __init__(
            self, delivery: Delivery, started: float, limit: float | None, request: Any
        ) -> None:
            self._delivery = delivery
            self._started = started
            self._limit = limit
            self._request = request

        def _pause(self, due: float, asked: float) -> tuple[float, bool]:
            """How long to sleep before a piece due ``due`` s after the start, asked for at
            ``asked``; and whether the read times out instead (after sleeping the timeout)."""
            now = time.perf_counter()
            if self._limit is not None and self._started + due - asked > self._limit:
                return asked + self._limit - now, True
            return self._started + due - now, False

        def __iter__(self) -> Iterator[bytes]:
            asked = time.perf_counter()
            for due, data in self._delivery.pieces:
                if due:
                    pause, late = self._pause(due, asked)
                    if pause > 0:
                        time.sleep(pause)
                    if late:
                        raise http.ReadTimeout(TIMED_OUT, request=self._request)
                yield data
                asked = time.perf_counter()
            if self._delivery.cut:
                raise http.RemoteProtocolError(INCOMPLETE, request=self._request)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            import anyio

            asked = time.perf_counter()
            for due, data in self._delivery.pieces:
                if due:
                    pause, late = self._pause(due, asked)
                    if pause > 0:
                        await anyio.sleep(pause)
                    if late:
                        raise http.ReadTimeout(TIMED_OUT, request=self._request)
                yield data
                asked = time.perf_counter()
            if self._delivery.cut:
                raise http.RemoteProtocolError(INCOMPLETE, request=self._request)

    return ShapedStream
