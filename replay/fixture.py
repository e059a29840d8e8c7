"""The object the ``llm_replay`` fixture gives a test: clients and transports bound to the
test's record/replay ``Player``."""

from __future__ import annotations

import importlib
import os
import re
from types import ModuleType
from typing import Any

from replay.errors import LLMReplayError
from replay.modes import Mode
from replay.player import Player
from replay.transport import Flavour, default_flavour, flavour_module, replay_transport

REPLAY_API_KEY = "llm-replay-no-key"
# httpx's default of 5 s is short for a model answering on a CPU; openai's own default is 600.
HTTP_TIMEOUT = 600.0


class LLMReplay:
    """Record/replay handle of one test.

    ``openai()``/``async_openai()`` give openai clients whose HTTP client goes through the
    record/replay transport; ``http_client()``/``transport()`` (and their async twins) are for
    code that builds its own client. ``flavour`` picks ``"httpx"`` (openai 2.x) or ``"httpx2"``
    (openai 3.x); by default the one the installed openai uses.
    """

    def __init__(self, player: Player, base_url: str, model: str) -> None:
        self._player = player
        self.base_url = base_url
        self.model = model
        self._opened: list[Any] = []

    @property
    def mode(self) -> Mode:
        """``replay``, ``record``, ``missing`` or ``live``."""
        return self._player.mode

    def transport(self, flavour: Flavour | None = None) -> Any:
        """A transport for ``httpx.Client(transport=...)`` (or httpx2's)."""
        transport = replay_transport(self._player, flavour)
        self._opened.append(transport)
        return transport

    def async_transport(self, flavour: Flavour | None = None) -> Any:
        """A transport for ``httpx.AsyncClient(transport=...)`` (or httpx2's)."""
        return replay_transport(self._player, flavour)

    def http_client(self, flavour: Flavour | None = None, **kwargs: Any) -> Any:
        """An ``httpx.Client`` (or ``httpx2.Client``) on the record/replay transport."""
        flavour = flavour or default_flavour()
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        client = flavour_module(flavour).Client(transport=self.transport(flavour), **kwargs)
        self._opened.append(client)
        return client

    def async_http_client(self, flavour: Flavour | None = None, **kwargs: Any) -> Any:
        """An ``httpx.AsyncClient`` (or ``httpx2.AsyncClient``) on the transport."""
        flavour = flavour or default_flavour()
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return flavour_module(flavour).AsyncClient(
            transport=self.async_transport(flavour), **kwargs
        )

    def openai(self, **kwargs: Any) -> Any:
        """An ``openai.OpenAI`` client bound to record or replay."""
        import openai

        kwargs.setdefault("http_client", self.http_client())
        return openai.OpenAI(**self._client_options(kwargs))

    def async_openai(self, **kwargs: Any) -> Any:
        """An ``openai.AsyncOpenAI`` client bound to record or replay."""
        import openai

        kwargs.setdefault("http_client", self.async_http_client())
        return openai.AsyncOpenAI(**self._client_options(kwargs))

    def anthropic(self, **kwargs: Any) -> Any:
        """An ``anthropic.Anthropic`` client bound to record or replay (``pip install
        pytest-llm-replay[anthropic]``)."""
        anthropic = _anthropic()
        kwargs.setdefault("http_client", self.http_client(anthropic_flavour()))
        return anthropic.Anthropic(**self._anthropic_options(kwargs))

    def async_anthropic(self, **kwargs: Any) -> Any:
        """An ``anthropic.AsyncAnthropic`` client bound to record or replay."""
        anthropic = _anthropic()
        kwargs.setdefault("http_client", self.async_http_client(anthropic_flavour()))
        return anthropic.AsyncAnthropic(**self._anthropic_options(kwargs))

    def _anthropic_options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("base_url", anthropic_base_url(self.base_url))
        if self.mode == "replay":
            kwargs.setdefault("api_key", REPLAY_API_KEY)
        else:
            kwargs.setdefault("api_key", os.environ.get("ANTHROPIC_API_KEY") or REPLAY_API_KEY)
        return kwargs

    def _client_options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("base_url", self.base_url)
        if self.mode == "replay":
            kwargs.setdefault("api_key", REPLAY_API_KEY)
        else:
            kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or REPLAY_API_KEY)
        return kwargs

    def close(self) -> None:
        """Close the sync clients and transports this handle opened."""
        while self._opened:
            self._opened.pop().close()


def anthropic_base_url(base_url: str) -> str:
    """The anthropic SDK's base URL for an OpenAI one: without the ``/v1`` that the SDK adds
    itself (``/v1/messages``)."""
    return base_url.rstrip("/").removesuffix("/v1")


def anthropic_flavour() -> Flavour:
    """The HTTP client the installed anthropic SDK uses: ``httpx2`` if it depends on it
    (anthropic 2.x), else ``httpx``."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        needs = requires("anthropic") or []
    except PackageNotFoundError:
        return "httpx2"
    uses_httpx2 = any(re.match(r"httpx2\b", need) for need in needs)
    return "httpx2" if uses_httpx2 else "httpx"


def _anthropic() -> ModuleType:
    try:
        return importlib.import_module("anthropic")
    except ImportError:
        raise LLMReplayError(
            "pytest-llm-replay: llm_replay.anthropic() needs the anthropic SDK: "
            "pip install 'pytest-llm-replay[anthropic]'"
        ) from None
