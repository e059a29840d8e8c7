"""httpx and httpx2 transports over the one replay core (``Player``).

openai 2.x talks through ``httpx``, openai 3.x through ``httpx2``: the two have the same API
but distinct classes, so the transport and stream classes are built once per flavour module
from the same code. One transport serves sync and async clients, and one stream class
subclasses both ``SyncByteStream`` and ``AsyncByteStream`` (as ``httpx.ByteStream`` does).

Replay delivers a recorded stream event by event as the caller iterates. Recording wraps the
real transport: every chunk goes to the caller the moment it arrives and to the ``Recorder``,
which writes the file once the response has ended.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit

from replay.errors import LLMReplayError, ReplayFailure
from replay.player import Live, Player
from replay.recorder import Recorder, RequestInfo
from replay.recording import Recording

Flavour = Literal["httpx", "httpx2"]
# Marks a request the recorder forwards to the real server, so that interception passes it.
FORWARDED = "llm_replay_forwarded"
FLAVOURS: tuple[Flavour, ...] = ("httpx", "httpx2")


def flavour_module(flavour: Flavour) -> ModuleType:
    """The HTTP client module of a flavour, with install advice if it is missing."""
    if flavour not in FLAVOURS:
        raise LLMReplayError(
            f"pytest-llm-replay: unknown flavour {flavour!r}; use one of {FLAVOURS}"
        )
    try:
        return importlib.import_module(flavour)
    except ImportError:
        raise LLMReplayError(
            f"pytest-llm-replay: the {flavour} flavour needs {flavour}: pip install {flavour}"
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


def replay_transport(player: Player, flavour: Flavour | None = None, **real: Any) -> Any:
    """A transport of ``flavour`` (``httpx.BaseTransport`` and ``AsyncBaseTransport``)."""
    return transport_class(flavour or default_flavour())(player, **real)


def transport_class(flavour: Flavour) -> Any:
    """The transport class of a flavour, built once per module object (a test harness that
    re-imports httpx gets classes of the new module)."""
    return _build(flavour_module(flavour))


@contextmanager
def surfaced() -> Iterator[None]:
    """Turn the library's errors raised inside a transport into ``ReplayFailure``, which the
    openai SDK neither retries nor hides behind "Connection error"."""
    try:
        yield
    except LLMReplayError as error:
        raise ReplayFailure(str(error)) from error


@cache
def _ssl_context(http: Any) -> Any:
    """The flavour's default SSL context, made once: making one takes 40-60 ms, which every
    new real transport would otherwise add to its first request's time to first event."""
    return http.create_ssl_context()


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
        """The real body, passed on chunk by chunk and shown to the recorder on the way."""

        def __init__(self, inner: Any, recorder: Recorder) -> None:
            self._inner = inner
            self._recorder = recorder

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._inner:
                self._recorder.feed(chunk)
                yield chunk
            with surfaced():
                self._recorder.finish()

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._inner:
                self._recorder.feed(chunk)
                yield chunk
            with surfaced():
                self._recorder.finish()

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                with surfaced():
                    self._recorder.close()

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                with surfaced():
                    self._recorder.close()

    class LLMReplayTransport(http.BaseTransport, http.AsyncBaseTransport):  # type: ignore[misc]
        """Answers from recordings, or from the real server through ``real``/``async_real``."""

        def __init__(self, player: Player, *, real: Any = None, async_real: Any = None) -> None:
            self.player = player
            self._real = real
            self._async_real = async_real

        def handle_request(self, request: Any) -> Any:
            info, route = self._decide(request, request.read())
            if isinstance(route, Recording):
                return self._replayed(request, route)
            self._forward(request, info)
            self._real = self._real or http.HTTPTransport(verify=_ssl_context(http))
            started = self._prepare(request, route)
            response = self._real.handle_request(request)
            return self._passed_on(request, response, info, route, started)

        async def handle_async_request(self, request: Any) -> Any:
            info, route = self._decide(request, await request.aread())
            if isinstance(route, Recording):
                return self._replayed(request, route)
            self._forward(request, info)
            self._async_real = self._async_real or http.AsyncHTTPTransport(
                verify=_ssl_context(http)
            )
            started = self._prepare(request, route)
            response = await self._async_real.handle_async_request(request)
            return self._passed_on(request, response, info, route, started)

        def _decide(self, request: Any, content: bytes) -> tuple[RequestInfo, Any]:
            """The sync and async paths differ only in how they read and send."""
            info = self.player.request_info(
                request.method, str(request.url), request.headers.multi_items(), content
            )
            with surfaced():
                route = self.player.route(info)
            return info, route

        def _forward(self, request: Any, info: RequestInfo) -> None:
            """Send the request to the engine that serves it (replay.routing), which may
            start it; the recording keeps the URL the client asked for."""
            with surfaced():
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

        @staticmethod
        def _replayed(request: Any, recording: Recording) -> Any:
            return http.Response(
                status_code=recording.status,
                headers=[
                    ("content-type", recording.content_type),
                    *recording.response_headers.items(),
                ],
                stream=ReplayStream(recording),
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
                index=route.index,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                store=self.player.store,
                started=started,
                server=_server_of(info.url),
                response_headers=dict(response.headers.multi_items()),
                on_saved=self.player.recorded,
            )
            return http.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=RecordingStream(response.stream, recorder),
                extensions=response.extensions,
                request=request,
            )

    LLMReplayTransport.__qualname__ = f"LLMReplayTransport[{http.__name__}]"
    return LLMReplayTransport
