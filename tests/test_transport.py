"""The transports of both flavours: replay, misses, repeats, and the recording tap's rules.

The record-path tests here put an in-memory transport where the server would be, to test the
tap's mechanics (pass-through, when a file is written); tests/test_real_server.py records the
real llama.cpp server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.core.http_flavours import FLAVOURS, Flavour, default_flavour, flavour_module
from replay.errors import ReplayMiss
from replay.player import Player, Rules
from replay.store.directory import DirectoryStore
from replay.store.memory import MemoryStore
from replay.transports.httpx_transport import replay_transport
from tests.seedfiles import curl_seed

BASE_URL = "http://replay.test/v1"
CHAT = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "tell me a joke"}]}


def chat_seed_store() -> MemoryStore:
    return MemoryStore([curl_seed("001_1cfb8fc5d5cf4d6d.txt").record()])


def test_miss_reaches_the_test_unwrapped_and_unretried_sync(tmp_path: Path) -> None:
    player = Player(
        DirectoryStore(tmp_path),
        "replay",
        rules=Rules(record_hint="pytest --record-mode=missing x"),
    )
    http = flavour_module(default_flavour()).Client(transport=replay_transport(player))
    client = openai.OpenAI(base_url=BASE_URL, api_key="k", http_client=http, max_retries=3)
    with pytest.raises(ReplayMiss) as caught:
        client.chat.completions.create(**CHAT, stream=True)
    assert player.stats.missed == 1, "the SDK must not retry a miss"
    message = str(caught.value)
    assert "POST /v1/chat/completions" in message
    key = message.split("request hash: ")[1].split()[0]
    assert len(key) == 64
    assert str(tmp_path / "_shared" / f"chat_completions-{key[:16]}.json") in message
    assert "pytest --record-mode=missing x" in message


def test_miss_reaches_the_test_unwrapped_and_unretried_async(tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "replay")

    async def run() -> None:
        http = flavour_module(default_flavour()).AsyncClient(transport=replay_transport(player))
        client = openai.AsyncOpenAI(base_url=BASE_URL, api_key="k", http_client=http)
        await client.embeddings.create(model="m", input="x")

    with pytest.raises(ReplayMiss, match="POST /v1/embeddings"):
        asyncio.run(run())
    assert player.stats.missed == 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_kth_identical_request_replays_kth_recording(flavour: Flavour) -> None:
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt")
    first, second = seed.record(), seed.record()
    second.events[1]["__data__"]["choices"][0]["delta"]["content"] = "B"
    player = Player(MemoryStore([first, second]), "replay")
    client = flavour_module(flavour).Client(transport=replay_transport(player, flavour))
    url = BASE_URL + "/chat/completions"
    bodies = [client.post(url, json=seed.body).content for _ in range(2)]
    assert b'"content":"A"' in bodies[0] and b'"content":"B"' in bodies[1]
    with pytest.raises(ReplayMiss, match="identical request number 3"):
        client.post(url, json=seed.body)


def test_allow_repeats_replays_the_first_recording() -> None:
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt")
    player = Player(MemoryStore([seed.record()]), "replay", rules=Rules(allow_repeats=True))
    client = flavour_module(default_flavour()).Client(transport=replay_transport(player))
    bodies = {client.post(BASE_URL + "/chat/completions", json=seed.body).content for _ in range(3)}
    assert bodies == {seed.wire_body()}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_replay_delivers_events_as_iterated(flavour: Flavour) -> None:
    """The first event arrives before the rest are rendered: nothing is buffered whole."""
    recording = curl_seed("001_1cfb8fc5d5cf4d6d.txt").record()
    rendered: list[int] = []
    original = type(recording).chunks

    def counting_chunks(self: Any) -> Iterator[bytes]:
        for chunk in original(self):
            rendered.append(len(chunk))
            yield chunk

    player = Player(MemoryStore([recording]), "replay")
    client = flavour_module(flavour).Client(transport=replay_transport(player, flavour))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(recording), "chunks", counting_chunks)
        request = client.build_request(
            "POST",
            BASE_URL + "/chat/completions",
            json=CHAT | {"stream": True, "stream_options": {"include_usage": True}},
        )
        reply = client.send(request, stream=True)
        iterator = reply.iter_raw()
        first = next(iterator)
        assert first.startswith(b"data: {") and len(rendered) == 1
        rest = list(iterator)
        reply.close()
    assert len(rest) == len(recording.events) - 1


def sse_server(flavour: Flavour, body: list[bytes]) -> Any:
    """An in-memory stand-in for a server that streams ``body`` chunk by chunk."""
    http = flavour_module(flavour)

    class Stream(http.SyncByteStream):  # type: ignore[misc,name-defined]
        def __iter__(self) -> Iterator[bytes]:
            yield from body

    def handler(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/event-stream"}, stream=Stream())

    return http.MockTransport(handler)


CHUNKS = [
    b'data: {"object":"chat.completion.chunk","id":"1","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
    b"data: [DONE]\n\n",
]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_recording_writes_once_the_stream_ended(flavour: Flavour, tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "record")
    transport = replay_transport(player, flavour, real=sse_server(flavour, CHUNKS))
    client = flavour_module(flavour).Client(transport=transport)
    with client.stream("POST", BASE_URL + "/chat/completions", json=CHAT) as reply:
        iterator = reply.iter_raw()
        assert next(iterator) == CHUNKS[0]
        assert not list(tmp_path.rglob("*.json")), "nothing is written before the end"
        assert list(iterator) == [CHUNKS[1]]
    [path] = tmp_path.rglob("*.json")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["response"]["body"][-1] == "[DONE]"
    assert player.stats.recorded == 1 and player.stats.written == [str(path)]
    replayed = Player(DirectoryStore(tmp_path), "replay")
    again = flavour_module(flavour).Client(transport=replay_transport(replayed, flavour))
    assert again.post(BASE_URL + "/chat/completions", json=CHAT).content == b"".join(CHUNKS)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_stream_left_before_its_end_is_not_recorded(flavour: Flavour, tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "record")
    transport = replay_transport(player, flavour, real=sse_server(flavour, CHUNKS))
    client = flavour_module(flavour).Client(transport=transport)
    with client.stream("POST", BASE_URL + "/chat/completions", json=CHAT) as reply:
        next(reply.iter_raw())
    assert not list(tmp_path.rglob("*.json"))
    assert player.stats.recorded == 0


def test_missing_mode_replays_what_exists_and_records_the_rest(tmp_path: Path) -> None:
    flavour = default_flavour()
    store = DirectoryStore(tmp_path)
    player = Player(store, "missing")
    transport = replay_transport(player, flavour, real=sse_server(flavour, CHUNKS))
    client = flavour_module(flavour).Client(transport=transport)
    client.post(BASE_URL + "/chat/completions", json=CHAT)
    assert (player.stats.recorded, player.stats.replayed) == (1, 0)
    second = Player(store, "missing")
    transport = replay_transport(second, flavour, real=sse_server(flavour, [b"data: [DONE]\n\n"]))
    body = (
        flavour_module(flavour)
        .Client(transport=transport)
        .post(BASE_URL + "/chat/completions", json=CHAT)
    )
    assert body.content == b"".join(CHUNKS)
    assert (second.stats.recorded, second.stats.replayed) == (0, 1)


def test_live_mode_writes_nothing(tmp_path: Path) -> None:
    flavour = default_flavour()
    player = Player(DirectoryStore(tmp_path), "live")
    transport = replay_transport(player, flavour, real=sse_server(flavour, CHUNKS))
    reply = (
        flavour_module(flavour)
        .Client(transport=transport)
        .post(BASE_URL + "/chat/completions", json=CHAT)
    )
    assert reply.content == b"".join(CHUNKS)
    assert not list(tmp_path.rglob("*")) and player.stats.live == 1


def test_secret_headers_are_not_written(tmp_path: Path) -> None:
    flavour = default_flavour()
    player = Player(DirectoryStore(tmp_path), "record")
    transport = replay_transport(player, flavour, real=sse_server(flavour, CHUNKS))
    client = flavour_module(flavour).Client(transport=transport)
    client.post(
        BASE_URL + "/chat/completions",
        json=CHAT,
        headers={
            "Authorization": "Bearer sk-secret-123",
            "api-key": "k-secret-456",
            "Cookie": "session=secret-789",
        },
    )
    [path] = tmp_path.rglob("*.json")
    text = path.read_text(encoding="utf-8")
    assert "secret" not in text
