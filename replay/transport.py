"""httpx and httpx2 transports over the one replay core (``Player``).

openai 2.x talks through ``httpx``, openai 3.x through ``httpx2``: the two have the same API
but distinct classes, so the transport and stream classes are built once per flavour module
from the same code. One transport serves sync and async clients, and one stream class
subclasses both ``SyncByteStream`` and ``AsyncByteStream`` (as ``httpx.ByteStream`` does).

Replay delivers a recorded stream event by event as the caller iterates. Recording wraps the
real transport: every chunk goes to the caller the moment it arrives and to the ``Recorder``,
which writes the file once the response has ended.

A request intercepted from the application's own client is forwarded through that client's
transport (``via``): its connections live in the application's event loop and close with its
client. Otherwise async requests go through one real transport per event loop: a connection
opened in one loop cannot be used from another (two ``asyncio.run`` calls in one test, each
with its own client, would otherwise meet "Event loop is closed").
"""

from __future__ import annotations

import asyncio
import importlib
import re
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from replay.completeness import framed
from replay.content_decoding import BodyDecoder
from replay.errors import LLMReplayError
from replay.player import Live, Player
from replay.recorder import Recorder
from replay.recording import Recording
from replay.request import RequestInfo

if TYPE_CHECKING:
    from replay.shaping import Shaper, Shaping

Flavour = Literal["httpx", "httpx2"]
# Marks a request the recorder forwards to the real server, so that interception passes it.
FORWARDED = "llm_replay_forwarded"
FLAVOURS: tuple[Flavour, ...] = ("httpx", "httpx2")


def flavour_module(flavour: Flavour) -> ModuleType:
    """The HTTP client module of a flavour, with install advice if it is missing."""
    if flavour not in FLAVOURS:
        raise LLMReplayError(
            f"pytest-llm-playback: unknown flavour {flavour!r}; use one of {FLAVOURS}"
        )
    try:
        return importlib.import_module(flavour)
    except ImportError:
        raise LLMReplayError(
            f"pytest-llm-playback: the {flavour} flavour needs {flavour}: pip install {flavour}"
        ) from None


def default_flavour() -> Flavour:
    """The flavour the installed openai uses (3.x: httpx2, 2.x: httpx), else what is installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        major = int(version("openai").split(".")[0])
        return "httpx2" if major >= 3 else "httpx"
    except (PackageNotFoundError, ValueError):
        pass
    try:
        importlib.import_module("httpx")
        return "httpx"
    except ImportError:
        return "httpx2"


def sdk_flavour(distribution: str) -> Flavour:
    """The HTTP client an installed SDK uses: ``httpx2`` if its distribution depends on it
    (anthropic 2.x, google-genai 3.x), else ``httpx``; ``httpx2`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        needs = requires(distribution) or []
    except PackageNotFoundError:
        return "httpx2"
    # Only a requirement of the SDK itself, not of one of its extras ("; extra == ...").
    uses_httpx2 = any(re.match(r"httpx2\b", need) and "extra ==" not in need for need in needs)
    return "httpx2" if uses_httpx2 else "httpx"


def replay_transport(
    player: Player,
    flavour: Flavour | None = None,
    *,
    shaping: Shaping | Shaper | None = None,
    **real: Any,
) -> Any:
    """A transport of ``flavour`` (``httpx.BaseTransport`` and ``AsyncBaseTransport``).
    ``shaping`` (pace, chunking, faults of replayed answers) replaces the player's; the
    plugin passes a test's ``Shaper`` instead, to count its faults in the report."""
    return transport_class(flavour or default_flavour())(player, shaping=shaping, **real)


def transport_class(flavour: Flavour) -> Any:
    """The transport class of a flavour, built once per module object (a test harness that
    re-imports httpx gets classes of the new module)."""
    return _build(flavour_module(flavour))


@cache
def _ssl_context(http: Any) -> Any:
    """The flavour's default SSL context, made once: making one takes 40-60 ms, which every
    new real transport would otherwise add to its first request's time to first event."""
    return http.create_ssl_context()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # another async library (trio): one transport serves it
        return None


def _server_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def _build(http: Any) -> type:
    class ReplayStream(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc]
        """A recorded body, chunk by chunk, to sync or async readers."""

        def __init__(self, recording: Recording) -> None:
            self._recording = recording

        def __iter__(self) -> Iterator[bytes]:
            yield from self._recording.chunks()

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in self._recording.chunks():
                yield chunk

    class RecordingStream(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc]
        """The real body, passed on chunk by chunk and shown to the recorder on the way; the
        finished recording goes to the player as the ``index``-th of its request."""

        def __init__(self, inner: Any, recorder: Recorder, player: Player, index: int) -> None:
            self._inner = inner
            self._recorder = recorder
            self._player = player
            self._index = index

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._inner:
                self._recorder.feed(chunk)
                yield chunk
            self._save(self._recorder.finish)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._inner:
                self._recorder.feed(chunk)
                yield chunk
            self._save(self._recorder.finish)

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._save(self._recorder.close)

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._save(self._recorder.close)

        def _save(self, finished: Callable[[], Recording | None]) -> None:
            """The recorder's recording, once the body ended, to the player to keep (a body
            the recorder cannot keep raises its ``LLMReplayError``)."""
            recording = finished()
            if recording is not None:
                self._player.save(recording, self._index, self._recorder.problems)

    class LLMReplayTransport(http.BaseTransport, http.AsyncBaseTransport):  # type: ignore[misc]
        """Answers from recordings, or from the real server through ``real``/``async_real``."""

        def __init__(
            self,
            player: Player,
            *,
            real: Any = None,
            async_real: Any = None,
            shaping: Shaping | Shaper | None = None,
        ) -> None:
            self.player = player
            self._real = real
            self._async_real = async_real  # given: used from every loop
            # Made here: one per event loop, keyed by the loop's id, with the loop's weakref.
            self._per_loop: dict[int, tuple[weakref.ref[Any] | None, Any]] = {}
            self._shaper: Shaper | None = player.shaper
            if shaping is not None:
                from replay.shaping import Shaper

                self._shaper = (
                    shaping if isinstance(shaping, Shaper) else Shaper.for_player(shaping, player)
                )

        def handle_request(self, request: Any, via: Any = None) -> Any:
            """``via``: the application's own transport, when its request was intercepted:
            forwarded requests use its connections, which its client closes."""
            if self._shaper is not None:  # pace, chunking, faults: replay.delivery
                from replay import delivery

                head = self._shaper.head(request.method, delivery.endpoint_of(request))
                delivery.wait(http, request, head.delay)
                if head.failure is not None:
                    return delivery.failure_response(http, request, head.failure)
            info, route = self._decide(request, request.read())
            if isinstance(route, Recording):
                return self._replayed(request, route)
            self._forward(request, info)
            if via is None:
                self._real = self._real or http.HTTPTransport(verify=_ssl_context(http))
            started = self._prepare(request, route)
            response = (via or self._real).handle_request(request)
            return self._passed_on(request, response, info, route, started)

        async def handle_async_request(self, request: Any, via: Any = None) -> Any:
            """``via`` as for ``handle_request``: its connections belong to the event loop
            the application's client runs in."""
            if self._shaper is not None:
                from replay import delivery

                head = self._shaper.head(request.method, delivery.endpoint_of(request))
                await delivery.async_wait(http, request, head.delay)
                if head.failure is not None:
                    return delivery.failure_response(http, request, head.failure)
            info, route = self._decide(request, await request.aread())
            if isinstance(route, Recording):
                return self._replayed(request, route)
            self._forward(request, info)
            real = via or self._async_real or self._loop_transport()
            started = self._prepare(request, route)
            response = await real.handle_async_request(request)
            return self._passed_on(request, response, info, route, started)

        def _decide(self, request: Any, content: bytes) -> tuple[RequestInfo, Any]:
            """The sync and async paths differ only in how they read and send."""
            info = self.player.request_info(
                request.method, str(request.url), request.headers.multi_items(), content
            )
            route = self.player.route(info)
            return info, route

        def _loop_transport(self) -> Any:
            """The real async transport of the running event loop; those of loops that ended
            are let go (their connections died with their loop)."""
            loop = _running_loop()
            for key, (ref, _) in list(self._per_loop.items()):
                gone = ref is not None and ((old := ref()) is None or old.is_closed())
                if gone:
                    del self._per_loop[key]
            entry = self._per_loop.get(id(loop))
            if entry is None:
                transport = http.AsyncHTTPTransport(verify=_ssl_context(http))
                entry = (weakref.ref(loop) if loop is not None else None, transport)
                self._per_loop[id(loop)] = entry
            return entry[1]

        def _forward(self, request: Any, info: RequestInfo) -> None:
            """Send the request to the engine that serves it (replay.routing), which may
            start it; the recording keeps the URL the client asked for."""
            target = self.player.forward_url(info.url)
            if target != info.url:
                request.url = http.URL(target)
                request.headers["host"] = request.url.netloc.decode("ascii")

        def close(self) -> None:
            if self._real is not None:
                self._real.close()

        async def aclose(self) -> None:
            if self._async_real is not None:
                await self._async_real.aclose()
            entry = self._per_loop.pop(id(_running_loop()), None)
            if entry is not None:
                await entry[1].aclose()

        def _replayed(self, request: Any, recording: Recording) -> Any:
            if self._shaper is None:
                stream = ReplayStream(recording)
            else:
                from replay.delivery import shaped_stream

                stream = shaped_stream(http, self._shaper, recording, request)
            return http.Response(
                status_code=recording.status,
                headers=[
                    ("content-type", recording.content_type),
                    *recording.response_headers.items(),
                ],
                stream=stream,
                request=request,
            )

        @staticmethod
        def _prepare(request: Any, route: object) -> float:
            """Mark the request as forwarded; the time it leaves."""
            request.extensions[FORWARDED] = True
            if not isinstance(route, Live):
                # The recorder parses the bytes that pass the transport: ask for them plain.
                request.headers["accept-encoding"] = "identity"
            return time.perf_counter()

        def _passed_on(
            self, request: Any, response: Any, info: RequestInfo, route: Any, started: float
        ) -> Any:
            if isinstance(route, Live):
                return response
            recorder = Recorder(
                request=info,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                started=started,
                server=_server_of(info.url),
                response_headers=dict(response.headers.multi_items()),
                framed=framed(response.headers, response.extensions.get("http_version")),
                decoder=BodyDecoder(response.headers.get("content-encoding", "")),
                served_model=self.player.served_model,
            )
            return http.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=RecordingStream(response.stream, recorder, self.player, route.index),
                extensions=response.extensions,
                request=request,
            )

    LLMReplayTransport.__qualname__ = f"LLMReplayTransport[{http.__name__}]"
    return LLMReplayTransport
