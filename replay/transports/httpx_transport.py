"""httpx and httpx2 transports over the one replay core (``Player``).

openai 2.x talks through ``httpx``, openai 3.x through ``httpx2``: the two have the same API
but distinct classes. The logic lives in plain classes here (``_Transport``, ``_ReplayBody``,
``_RecordingBody``) that name the flavour module they speak as ``http``; ``transport_class``
makes, once per module, the flavour's classes by putting those first and the flavour's base
classes after them, as httpx's own ``ByteStream`` subclasses both ``SyncByteStream`` and
``AsyncByteStream``. One transport serves sync and async clients.

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
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from types import ModuleType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from replay.core.completeness import framed
from replay.core.content_decoding import BodyDecoder
from replay.core.http_flavours import Flavour, default_flavour, flavour_module
from replay.core.recorder import Recorder
from replay.core.recording import Recording
from replay.core.request import RequestInfo
from replay.player import Live, Player, Record
from replay.shaping import delivery
from replay.shaping.plan import Shaper, Shaping

# Marks a request the recorder forwards to the real server, so that interception passes it.
FORWARDED = "llm_replay_forwarded"

# A request or response of the flavour module: ``httpx.Request`` or ``httpx2.Request``, ...
# Typed as Any: the two modules' classes share an API but no base class to name.
FlavourObject = Any


def replay_transport(
    player: Player,
    flavour: Flavour | None = None,
    *,
    shaping: Shaping | Shaper | None = None,
    **real: Any,
) -> Any:
    """A transport of ``flavour`` (``httpx.BaseTransport`` and ``AsyncBaseTransport``).
    ``shaping`` (pace, chunking, faults of replayed answers) replaces the player's; the
    plugin passes a test's ``Shaper`` instead, to count its faults in the report.
    ``real``/``async_real``: the transports that reach the server (default: the flavour's
    ``HTTPTransport``/``AsyncHTTPTransport``)."""
    return transport_class(flavour or default_flavour())(player, shaping=shaping, **real)


def transport_class(flavour: Flavour) -> type[_Transport]:
    """The transport class of a flavour, built once per module object (a test harness that
    re-imports httpx gets classes of the new module)."""
    return _transport_class(flavour_module(flavour))


@cache
def _transport_class(http: ModuleType) -> type[_Transport]:
    """The flavour's transport class and the body-stream classes it answers with: ours first,
    the flavour's bases after."""
    streams = (http.SyncByteStream, http.AsyncByteStream)

    def made(name: str, ours: type, bases: tuple[type, ...], **more: Any) -> Any:
        cls = type(name, (ours, *bases), {"http": http, "__module__": __name__, **more})
        cls.__qualname__ = f"{name}[{http.__name__}]"
        return cls

    return made(  # type: ignore[no-any-return]
        "LLMReplayTransport",
        _Transport,
        (http.BaseTransport, http.AsyncBaseTransport),
        replay_body=made("ReplayStream", _ReplayBody, streams),
        recording_body=made("RecordingStream", _RecordingBody, streams),
    )


@cache
def _ssl_context(http: ModuleType) -> Any:
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


class _ReplayBody:
    """A recorded body, chunk by chunk, to sync or async readers; a body the server cut
    (``ended: "cut"``) then ends with the error a client gets when that happens."""

    http: ClassVar[ModuleType]

    def __init__(self, recording: Recording, request: FlavourObject) -> None:
        self._recording = recording
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield from self._recording.chunks()
        self._end()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._recording.chunks():
            yield chunk
        self._end()

    def _end(self) -> None:
        if self._recording.ended == "cut":
            raise self.http.RemoteProtocolError(delivery.INCOMPLETE, request=self._request)


class _RecordingBody:
    """The real body, passed on chunk by chunk and shown to the recorder on the way; the
    finished recording goes to the player as the ``index``-th of its request."""

    http: ClassVar[ModuleType]

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
        """The recorder's recording, once the body ended, to the player to keep (a body the
        recorder cannot keep raises its ``LLMReplayError``)."""
        recording = finished()
        if recording is not None:
            self._player.save(recording, self._index, self._recorder.problems)


class _Transport:
    """Answers from recordings, or from the real server through ``real``/``async_real``."""

    http: ClassVar[ModuleType]
    replay_body: ClassVar[type[_ReplayBody]]  # the flavour's, set by _transport_class
    recording_body: ClassVar[type[_RecordingBody]]

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
        self._shaper = _shaper_for(player, shaping)

    def handle_request(self, request: FlavourObject, via: Any = None) -> FlavourObject:
        """``via``: the application's own transport, when its request was intercepted:
        forwarded requests use its connections, which its client closes."""
        if self._shaper is not None:  # pace, chunking, faults: replay.shaping.delivery
            head = self._shaper.head(request.method, delivery.endpoint_of(request))
            delivery.wait(self.http, request, head.delay)
            if head.failure is not None:
                return delivery.failure_response(self.http, request, head.failure)
        info, route = self._decide(request, request.read())
        if isinstance(route, Recording):
            return self._replayed(request, route)
        self._forward(request, info, route)
        if via is None:
            self._real = self._real or self.http.HTTPTransport(verify=_ssl_context(self.http))
        started = time.perf_counter()
        response = (via or self._real).handle_request(request)
        return self._passed_on(request, response, info, route, started)

    async def handle_async_request(self, request: FlavourObject, via: Any = None) -> FlavourObject:
        """``via`` as for ``handle_request``: its connections belong to the event loop the
        application's client runs in. Differs from it only where it awaits."""
        if self._shaper is not None:
            head = self._shaper.head(request.method, delivery.endpoint_of(request))
            await delivery.async_wait(self.http, request, head.delay)
            if head.failure is not None:
                return delivery.failure_response(self.http, request, head.failure)
        info, route = self._decide(request, await request.aread())
        if isinstance(route, Recording):
            return self._replayed(request, route)
        self._forward(request, info, route)
        real = via or self._async_real or self._loop_transport()
        started = time.perf_counter()
        response = await real.handle_async_request(request)
        return self._passed_on(request, response, info, route, started)

    def close(self) -> None:
        if self._real is not None:
            self._real.close()

    async def aclose(self) -> None:
        if self._async_real is not None:
            await self._async_real.aclose()
        entry = self._per_loop.pop(id(_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()

    def _decide(
        self, request: FlavourObject, content: bytes
    ) -> tuple[RequestInfo, Recording | Record | Live]:
        """The request hashed once, where it enters, and where its answer comes from."""
        info = self.player.request_info(
            request.method, str(request.url), request.headers.multi_items(), content
        )
        return info, self.player.route(info)

    def _loop_transport(self) -> Any:
        """The real async transport of the running event loop; those of loops that ended are
        let go (their connections died with their loop)."""
        loop = _running_loop()
        for key, (ref, _) in list(self._per_loop.items()):
            gone = ref is not None and ((old := ref()) is None or old.is_closed())
            if gone:
                del self._per_loop[key]
        entry = self._per_loop.get(id(loop))
        if entry is None:
            transport = self.http.AsyncHTTPTransport(verify=_ssl_context(self.http))
            entry = (weakref.ref(loop) if loop is not None else None, transport)
            self._per_loop[id(loop)] = entry
        return entry[1]

    def _forward(self, request: FlavourObject, info: RequestInfo, route: Record | Live) -> None:
        """Ready the request for the real server: sent to the engine that serves it
        (``player.upstream.forward_url``, which may start it; the recording keeps the URL the client
        asked for), marked as forwarded so that interception passes it, and, when it is to be
        recorded, asked for a body without content-encoding (the recorder parses the bytes)."""
        target = self.player.upstream.forward_url(info.url)
        if target != info.url:
            request.url = self.http.URL(target)
            request.headers["host"] = request.url.netloc.decode("ascii")
        request.extensions[FORWARDED] = True
        if not isinstance(route, Live):
            request.headers["accept-encoding"] = "identity"

    def _replayed(self, request: FlavourObject, recording: Recording) -> FlavourObject:
        if self._shaper is None:
            stream: Any = self.replay_body(recording, request)
        else:
            stream = delivery.shaped_stream(self.http, self._shaper, recording, request)
        return self.http.Response(
            status_code=recording.status,
            headers=[("content-type", recording.content_type), *recording.response_headers.items()],
            stream=stream,
            request=request,
        )

    def _passed_on(
        self,
        request: FlavourObject,
        response: FlavourObject,
        info: RequestInfo,
        route: Record | Live,
        started: float,
    ) -> FlavourObject:
        if isinstance(route, Live):
            return response
        headers = response.headers
        recorder = Recorder(
            request=info,
            status=response.status_code,
            content_type=headers.get("content-type", ""),
            started=started,
            server=_server_of(info.url),
            response_headers=dict(headers.multi_items()),
            framed=framed(headers, response.extensions.get("http_version")),
            decoder=BodyDecoder(headers.get("content-encoding", "")),
            served_model=self.player.upstream.served_model,
        )
        return self.http.Response(
            status_code=response.status_code,
            headers=headers,
            stream=self.recording_body(response.stream, recorder, self.player, route.index),
            extensions=response.extensions,
            request=request,
        )


def _shaper_for(player: Player, shaping: Shaping | Shaper | None) -> Shaper | None:
    """The shaper of a transport: the one given, one for the ``shaping`` given (with the seed
    and fault report of the player's test), or the player's own (None: plain replay)."""
    if shaping is None or isinstance(shaping, Shaper):
        return shaping if shaping is not None else player.shaper
    if shaping.is_default:
        return None
    if player.shaper is not None:
        return player.shaper.with_shaping(shaping)
    return Shaper(shaping, on_event=player.stats.faults.append)
