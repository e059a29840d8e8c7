"""The object the ``llm_replay`` fixture gives a test: clients and transports bound to the
test's record/replay ``Player``."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, overload

from replay.core.http_flavours import Flavour, default_flavour, flavour_module, sdk_flavour
from replay.core.modes import Mode
from replay.errors import LLMReplayError
from replay.player import Player
from replay.transports.httpx_transport import replay_transport

if TYPE_CHECKING:  # for editors and mypy only: none of these is imported at run time
    import httpx
    import httpx2
    import openai as openai_sdk  # the method openai() would shadow the name

    from replay.shaping.plan import Shaper, Shaping

REPLAY_API_KEY = "llm-playback-no-key"
# httpx's default of 5 s is short for a model answering on a CPU; openai's own default is 600.
HTTP_TIMEOUT = 600.0


class LLMReplay:
    """Record/replay handle of one test.

    ``openai()``/``async_openai()`` give openai clients whose HTTP client goes through the
    record/replay transport; ``http_client()``/``transport()`` (and their async twins) are for
    code that builds its own client. ``flavour`` picks ``"httpx"`` (openai 2.x) or ``"httpx2"``
    (openai 3.x); by default the one the installed openai uses.
    """

    def __init__(
        self, player: Player, base_url: str, model: str, *, seed: int = 0, test_id: str = ""
    ) -> None:
        self._player = player
        self._seed = seed  # the session's, of random chunking; the test's id names it
        self._test_id = test_id
        self.base_url = base_url
        self.model = model
        self._opened: list[Any] = []

    @property
    def mode(self) -> Mode:
        """``replay``, ``record``, ``missing`` or ``live``."""
        return self._player.mode

    def transport(
        self,
        flavour: Flavour | None = None,
        *,
        pace: float | None = None,
        chunking: str | None = None,
        faults: list[Any] | None = None,
    ) -> Any:
        """A transport for ``httpx.Client(transport=...)`` (or httpx2's). ``pace``,
        ``chunking`` and ``faults``, where given, replace the test's (marker, ini, command
        line) for this transport's replayed answers; its faults are counted on their own."""
        transport = replay_transport(
            self._player, flavour, shaping=self._shaping(pace, chunking, faults)
        )
        self._opened.append(transport)
        return transport

    def async_transport(
        self,
        flavour: Flavour | None = None,
        *,
        pace: float | None = None,
        chunking: str | None = None,
        faults: list[Any] | None = None,
    ) -> Any:
        """A transport for ``httpx.AsyncClient(transport=...)`` (or httpx2's); the shaping
        options as for ``transport``."""
        return replay_transport(
            self._player, flavour, shaping=self._shaping(pace, chunking, faults)
        )

    def _shaping(self, pace: object, chunking: object, faults: object) -> Shaping | Shaper | None:
        """The test's shaping with the given options replaced, as a shaper of its own (None:
        plain replay); or None if no option is given: then the transport uses the test's."""
        if pace is None and chunking is None and faults is None:
            return None
        from replay.shaping.plan import Shaping, seed_of_test, shaper_of_test

        shaper = self._player.shaper
        base = shaper.shaping if shaper is not None else Shaping()
        shaping = Shaping.of(
            base.pace if pace is None else pace,
            base.chunking if chunking is None else chunking,
            base.faults if faults is None else faults,
        )
        seed = seed_of_test(self._seed, self._test_id)
        return shaper_of_test(shaping, self._player.stats, seed, self._test_id) or shaping

    @overload
    def http_client(self, flavour: Literal["httpx"], **kwargs: Any) -> httpx.Client: ...
    @overload
    def http_client(self, flavour: Literal["httpx2"], **kwargs: Any) -> httpx2.Client: ...
    @overload
    def http_client(self, flavour: None = None, **kwargs: Any) -> Any: ...

    def http_client(self, flavour: Flavour | None = None, **kwargs: Any) -> Any:
        """An ``httpx.Client`` (or ``httpx2.Client``) on the record/replay transport. Typed
        when ``flavour`` is given; without it, which one depends on the installed openai."""
        flavour = flavour or default_flavour()
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        client = flavour_module(flavour).Client(transport=self.transport(flavour), **kwargs)
        self._opened.append(client)
        return client

    @overload
    def async_http_client(self, flavour: Literal["httpx"], **kwargs: Any) -> httpx.AsyncClient: ...
    @overload
    def async_http_client(
        self, flavour: Literal["httpx2"], **kwargs: Any
    ) -> httpx2.AsyncClient: ...
    @overload
    def async_http_client(self, flavour: None = None, **kwargs: Any) -> Any: ...

    def async_http_client(self, flavour: Flavour | None = None, **kwargs: Any) -> Any:
        """An ``httpx.AsyncClient`` (or ``httpx2.AsyncClient``) on the transport."""
        flavour = flavour or default_flavour()
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return flavour_module(flavour).AsyncClient(
            transport=self.async_transport(flavour), **kwargs
        )

    def openai(self, **kwargs: Any) -> openai_sdk.OpenAI:
        """An ``openai.OpenAI`` client bound to record or replay."""
        import openai

        kwargs.setdefault("http_client", self.http_client())
        return openai.OpenAI(**self._client_options(kwargs))

    def async_openai(self, **kwargs: Any) -> openai_sdk.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client bound to record or replay."""
        import openai

        kwargs.setdefault("http_client", self.async_http_client())
        return openai.AsyncOpenAI(**self._client_options(kwargs))

    def anthropic(self, **kwargs: Any) -> Any:
        """An ``anthropic.Anthropic`` client bound to record or replay (``pip install
        pytest-llm-playback[anthropic]``)."""
        anthropic = _anthropic()
        kwargs.setdefault("http_client", self.http_client(anthropic_flavour()))
        return anthropic.Anthropic(**self._anthropic_options(kwargs))

    def async_anthropic(self, **kwargs: Any) -> Any:
        """An ``anthropic.AsyncAnthropic`` client bound to record or replay."""
        anthropic = _anthropic()
        kwargs.setdefault("http_client", self.async_http_client(anthropic_flavour()))
        return anthropic.AsyncAnthropic(**self._anthropic_options(kwargs))

    def genai(self, **kwargs: Any) -> Any:
        """A ``google.genai.Client`` (Gemini Developer API, api-key mode) bound to record or
        replay, sync (``client.models``) and async (``client.aio.models``) alike (``pip install
        google-genai``). ``http_options`` given as a dict or ``HttpOptions`` keep what they
        set; the base URL, HTTP clients and key they leave out are the fixture's."""
        genai = _sdk("google.genai", "llm_replay.genai()", "pip install google-genai")
        flavour = sdk_flavour("google-genai")
        given = kwargs.pop("http_options", None) or {}
        options = {name: value for name, value in dict(given).items() if value is not None}
        options.setdefault("base_url", genai_base_url(self.base_url))
        options.setdefault("httpx_client", self.http_client(flavour))
        # Also when aiohttp is installed: the SDK's async calls go through aiohttp unless it
        # is given an async httpx client, and aiohttp is not intercepted.
        options.setdefault("httpx_async_client", self.async_http_client(flavour))
        kwargs["http_options"] = options
        kwargs.setdefault("vertexai", False)
        if self.mode == "replay":
            kwargs.setdefault("api_key", REPLAY_API_KEY)
        else:
            key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
            kwargs.setdefault("api_key", key or REPLAY_API_KEY)
        return genai.Client(**kwargs)

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


def genai_base_url(base_url: str) -> str:
    """The google-genai SDK's base URL for an OpenAI one: without the ``/v1``, since the SDK
    adds its API version itself (``/v1/models/...:generateContent``, ``/v1beta/...``)."""
    return anthropic_base_url(base_url)


def anthropic_flavour() -> Flavour:
    """The HTTP client the installed anthropic SDK uses: ``httpx2`` if it depends on it
    (anthropic 2.x), else ``httpx``."""
    return sdk_flavour("anthropic")


def _anthropic() -> ModuleType:
    return _sdk(
        "anthropic", "llm_replay.anthropic()", "pip install 'pytest-llm-playback[anthropic]'"
    )


def _sdk(module: str, caller: str, install: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise LLMReplayError(
            f"pytest-llm-playback: {caller} needs the {module} SDK: {install}"
        ) from None
