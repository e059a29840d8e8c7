"""Interception without code changes: while a test uses ``llm_replay``, requests that any
httpx or httpx2 client makes to the server's base URL go through the record/replay transport.

- ``httpx`` (openai 2.x): respx, with its ``httpx`` mocker (it wraps each client's transport;
  the transport our recorder forwards through is not a client's, so it is never re-entered).
- ``httpx2`` (openai 3.x), which respx does not cover: the least patching that works for every
  client, ``HTTPTransport.handle_request`` and ``AsyncHTTPTransport.handle_async_request``,
  restored when the test ends. The recorder marks the requests it forwards so that they pass.

Requests to a known hosted LLM provider (``replay.transports.providers``: api.openai.com, Azure
OpenAI, Anthropic, Gemini, ...) never leave the machine: they are moved under the base URL first, so
that they replay (the host is not part of the request hash), miss, or in record mode go to the
test's server. Requests to other hosts are untouched unless ``block_other_hosts`` is set.
"""

from __future__ import annotations

import contextvars
import importlib.util
import sys
from typing import Any
from urllib.parse import urlsplit

from replay.core.http_flavours import Flavour
from replay.errors import HostBlocked
from replay.player import Player
from replay.transports.httpx_transport import FORWARDED, replay_transport
from replay.transports.providers import URL_PATTERN, is_provider, redirected

_IN_ASYNC_RESOLVE = contextvars.ContextVar("llm_replay_async_resolve", default=False)


class Interception:
    """Routes a base URL's requests of every client to a player, for one test."""

    def __init__(self, player: Player, base_url: str, *, block_other_hosts: bool = False) -> None:
        self.player = player
        self.base_url = base_url.rstrip("/")
        self.block_other_hosts = block_other_hosts
        self._undo: list[Any] = []

    def matches(self, url: str) -> bool:
        """Whether a request URL is under the base URL."""
        return url == self.base_url or url.startswith(self.base_url + "/")

    def takes(self, url: str) -> bool:
        """Whether the record/replay transport answers a request to ``url``: under the base
        URL, or to a known LLM provider."""
        return self.matches(url) or is_provider(url)

    def redirect(self, request: Any) -> Any:
        """A provider's request moved under the base URL (the request itself, changed); a
        request under the base URL as it is."""
        url = str(request.url)
        if not self.matches(url):
            request.url = type(request.url)(redirected(url, self.base_url))
            request.headers["host"] = request.url.netloc.decode("ascii")
        return request

    def start(self) -> None:
        """Intercept the flavours that are installed."""
        if _installed("httpx"):
            self._start_respx()
        if _installed("httpx2"):
            self._patch_transports("httpx2")

    def stop(self) -> None:
        """End interception: clients talk to the network again."""
        while self._undo:
            self._undo.pop()()

    def refuse(self, request: Any) -> HostBlocked:
        """The error for a request to another host while those are blocked."""
        return HostBlocked(
            f"pytest-llm-playback: {request.method} {request.url} goes to a host other than the "
            f"LLM server {self.base_url}, and this test blocks other hosts (the marker's "
            "block_other_hosts, or the ini setting llm_replay_block_other_hosts)"
        )

    def _start_respx(self) -> None:
        import respx

        transport = replay_transport(self.player, "httpx")
        interception = self

        class Router(respx.MockRouter):
            """Tells the side effect whether respx resolves for a sync or an async client."""

            def resolve(self, request: Any) -> Any:
                token = _IN_ASYNC_RESOLVE.set(False)
                try:
                    return super().resolve(request)
                finally:
                    _IN_ASYNC_RESOLVE.reset(token)

            async def aresolve(self, request: Any) -> Any:
                token = _IN_ASYNC_RESOLVE.set(True)
                try:
                    return await super().aresolve(request)
                finally:
                    _IN_ASYNC_RESOLVE.reset(token)

        def to_server(request: Any) -> Any:
            request = interception.redirect(request)
            if _IN_ASYNC_RESOLVE.get():
                return transport.handle_async_request(request)
            return transport.handle_request(request)

        def elsewhere(request: Any) -> Any:
            if interception.block_other_hosts:
                raise interception.refuse(request)
            return request  # respx: pass through to the client's own transport

        router = Router(assert_all_called=False, assert_all_mocked=True, using="httpx")
        router.route(url__regex=f"^{_escape(self.base_url)}(/|$)").mock(side_effect=to_server)
        router.route(url__regex=URL_PATTERN).mock(side_effect=to_server)
        router.route().mock(side_effect=elsewhere)
        router.start()
        self._undo.append(lambda: router.stop(quiet=True))
        self._undo.append(transport.close)

    def _patch_transports(self, flavour: Flavour) -> None:
        http = sys.modules.get(flavour) or importlib.import_module(flavour)
        transport = replay_transport(self.player, flavour)
        sync_original = http.HTTPTransport.handle_request
        async_original = http.AsyncHTTPTransport.handle_async_request
        interception = self

        def handle_request(self: Any, request: Any) -> Any:
            if request.extensions.get(FORWARDED) or not interception.takes(str(request.url)):
                if interception.block_other_hosts and not request.extensions.get(FORWARDED):
                    raise interception.refuse(request)
                return sync_original(self, request)
            return transport.handle_request(
                interception.redirect(request), via=self
            )  # forwarded: the app's own pool

        async def handle_async_request(self: Any, request: Any) -> Any:
            if request.extensions.get(FORWARDED) or not interception.takes(str(request.url)):
                if interception.block_other_hosts and not request.extensions.get(FORWARDED):
                    raise interception.refuse(request)
                return await async_original(self, request)
            return await transport.handle_async_request(interception.redirect(request), via=self)

        http.HTTPTransport.handle_request = handle_request
        http.AsyncHTTPTransport.handle_async_request = handle_async_request

        def undo() -> None:
            http.HTTPTransport.handle_request = sync_original
            http.AsyncHTTPTransport.handle_async_request = async_original

        self._undo.append(undo)
        self._undo.append(transport.close)


def _installed(module: str) -> bool:
    return module in sys.modules or importlib.util.find_spec(module) is not None


def _escape(url: str) -> str:
    import re

    parts = urlsplit(url)
    return re.escape(f"{parts.scheme}://{parts.netloc}{parts.path}")
