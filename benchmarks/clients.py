"""The clients every benchmark drives: the openai SDK on one HTTP flavour, over our replay
transport, over the flavour's ``MockTransport`` (the floor), or over its real transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.exchanges import Exchange
from replay import Player, replay_transport
from replay.core.http_flavours import Flavour, flavour_module
from replay.store.base import Store

API_KEY = "bench-no-key"


def sdk_client(openai: Any, flavour: Flavour, base_url: str, transport: Any = None) -> Any:
    """``openai.OpenAI`` on a ``flavour`` client (its default transport when none is given),
    with retries off so that a failure shows at once."""
    http = flavour_module(flavour)
    http_client = http.Client(transport=transport) if transport is not None else http.Client()
    return openai.OpenAI(base_url=base_url, api_key=API_KEY, http_client=http_client, max_retries=0)


def replay_client(
    store: Store, flavour: Flavour, base_url: str, mode: str = "replay", test: str | None = None
) -> Any:
    """The SDK on our transport, with a fresh ``Player`` (as the plugin makes per test) of
    ``test``'s recordings (default: the shared ones)."""
    import openai

    player = Player(store, mode, test=test)  # type: ignore[arg-type]
    return sdk_client(openai, flavour, base_url, replay_transport(player, flavour))


def mock_client(flavour: Flavour, base_url: str, answer: Callable[[bytes], bytes]) -> Any:
    """The SDK on the flavour's ``MockTransport``, answering each request body with the SSE
    bytes ``answer`` gives for it, from memory."""
    import openai

    http = flavour_module(flavour)

    def handler(request: Any) -> Any:
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, content=answer(request.content)
        )

    return sdk_client(openai, flavour, base_url, http.MockTransport(handler))


def stream_chunks(client: Any, exchange: Exchange) -> int:
    """Make the exchange's streamed request and read every chunk; how many there were."""
    stream = client.chat.completions.create(**exchange.body)
    count = 0
    for _ in stream:
        count += 1
    return count


def stream_text(client: Any, exchange: Exchange) -> str:
    """The text the SDK assembles from the exchange's stream (to check variants agree)."""
    stream = client.chat.completions.create(**exchange.body)
    return "".join(
        (chunk.choices[0].delta.content or "") + (chunk.choices[0].finish_reason or "")
        for chunk in stream
        if chunk.choices
    )
