"""The seed documents replay through the openai SDK and both HTTP flavours as they were sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.core.http_flavours import FLAVOURS, Flavour, default_flavour, flavour_module
from replay.core.recording import loads
from replay.player import Player
from replay.store.memory import MemoryStore
from replay.transports.httpx_transport import replay_transport
from tests.seedfiles import SEEDS, curl_seed, llama_stack_text, ollama_seed

BASE_URL = "http://replay.test:9999/v1"  # any host and port: the request hash ignores them
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def sdk(store: MemoryStore) -> openai.OpenAI:
    transport = replay_transport(Player(store, "replay"))
    http = flavour_module(default_flavour()).Client(transport=transport)
    return openai.OpenAI(base_url=BASE_URL, api_key="unused", http_client=http)


def async_sdk(store: MemoryStore) -> openai.AsyncOpenAI:
    transport = replay_transport(Player(store, "replay"))
    http = flavour_module(default_flavour()).AsyncClient(transport=transport)
    return openai.AsyncOpenAI(base_url=BASE_URL, api_key="unused", http_client=http)


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="no ../shared/seeds beside this checkout")
def test_seed_copies_are_byte_identical_to_shared_seeds() -> None:
    names = sorted(path.name for path in SHARED_SEEDS.iterdir())
    assert names == sorted(path.name for path in SEEDS.iterdir())
    for name in names:
        assert (SEEDS / name).read_bytes() == (SHARED_SEEDS / name).read_bytes(), name


def test_completion_seed_000_replays_with_its_mojibake() -> None:
    seed = curl_seed("000_a30d2370a65b8133.txt")
    chunks = [json.loads(line) for line in seed.data_lines if line != "[DONE]"]
    expected = "".join(chunk["choices"][0]["text"] for chunk in chunks)
    assert "รถ" in expected
    client = sdk(MemoryStore([seed.record()]))
    stream = client.completions.create(
        model="llama3.2:1b",
        prompt="tell me a joke",
        stream=True,
        stream_options={"include_usage": True},
    )
    received = list(stream)
    assert "".join(chunk.choices[0].text for chunk in received) == expected
    assert received[-1].usage is not None and received[-1].usage.total_tokens == 84
    assert [chunk.model_dump(exclude_unset=True) for chunk in received] == chunks


def test_chat_seed_001_replays_async() -> None:
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt")
    chunks = [json.loads(line) for line in seed.data_lines if line != "[DONE]"]

    async def run() -> list[Any]:
        client = async_sdk(MemoryStore([seed.record()]))
        stream = await client.chat.completions.create(
            model="llama3.2:1b",
            messages=[{"role": "user", "content": "tell me a joke"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        received = [chunk async for chunk in stream]
        await client.close()
        return received

    received = asyncio.run(run())
    assert [chunk.model_dump(exclude_unset=True) for chunk in received] == chunks
    assert received[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("name", ["000_a30d2370a65b8133.txt", "001_1cfb8fc5d5cf4d6d.txt"])
def test_sse_seeds_replay_byte_for_byte(flavour: Flavour, name: str) -> None:
    """The replayed wire bytes are the server's, mojibake included, sync and async."""
    seed = curl_seed(name)
    http = flavour_module(flavour)
    store = MemoryStore([seed.record()])

    url = BASE_URL + seed.endpoint.removeprefix("/v1")
    transport = replay_transport(Player(store, "replay"), flavour)
    with (
        http.Client(transport=transport) as client,
        client.stream("POST", url, json=seed.body) as reply,
    ):
        chunks = list(reply.iter_raw())

    async def run() -> bytes:
        transport = replay_transport(Player(store, "replay"), flavour)
        async with http.AsyncClient(transport=transport) as client:
            reply = await client.post(BASE_URL + seed.endpoint.removeprefix("/v1"), json=seed.body)
            return bytes(reply.content)

    assert b"".join(chunks) == seed.wire_body()
    assert len(chunks) == len(seed.data_lines), "one chunk per event, delivered as iterated"
    assert asyncio.run(run()) == seed.wire_body()


@pytest.mark.parametrize("index", range(4))
def test_ollama_seed_004_replays(index: int) -> None:
    seed = ollama_seed()[index]
    recording = seed.record()
    client = sdk(MemoryStore([recording]))
    chat = seed.endpoint.endswith("chat/completions")
    api: Any = client.chat.completions if chat else client.completions
    answer = api.create(**seed.body)
    if seed.streaming:
        sent = [json.loads(line) for line in seed.data_lines if line != "[DONE]"]
        received = list(answer)
        assert [chunk.model_dump(exclude_unset=True) for chunk in received] == sent
        text = "".join(
            (chunk.choices[0].delta.content or "") if chat else chunk.choices[0].text
            for chunk in received
        )
        assert text and all(ord(char) > 127 or char in "!?" for char in text)
    else:
        assert answer.model_dump(exclude_unset=True) == json.loads(seed.data_lines[0])
    typed_names = {element["__type__"] for element in recording.events if isinstance(element, dict)}
    assert (
        typed_names
        == {
            "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
            if seed.streaming
            else "openai.types.chat.chat_completion.ChatCompletion"
        }
        if chat
        else {"openai.types.completion.Completion"}
    )


def test_llama_stack_seed_002_replays_both_choices_in_order() -> None:
    recording = loads((SEEDS / "002_1b278b56b763379a.txt").read_bytes(), "002")
    sent = [element["__data__"] for element in recording.events]
    client = sdk(MemoryStore([recording]))
    stream = client.chat.completions.create(
        model="meta-llama/Llama-3.2-1B-Instruct",
        messages=[{"role": "user", "content": "What's the name of the Sun in latin?"}],
        n=2,
        stream=True,
    )
    received = list(stream)
    assert [chunk.choices[0].index for chunk in received] == [
        chunk["choices"][0]["index"] for chunk in sent
    ]
    texts = {0: "", 1: ""}
    for chunk in received:
        texts[chunk.choices[0].index] += chunk.choices[0].delta.content or ""
    expected = {
        n: "".join(
            c["choices"][0]["delta"]["content"] or "" for c in sent if c["choices"][0]["index"] == n
        )
        for n in (0, 1)
    }
    assert texts == expected
    assert texts[0].startswith("The Latin") and texts[1].startswith("The Latin")
    assert [chunk.model_dump(exclude_unset=True) for chunk in received] == sent


def test_llama_stack_seed_003_replays_from_its_page_copy() -> None:
    recording = loads(llama_stack_text("003_11d0a2173aefbf3a.txt"), "003")
    assert recording.url == "http://0.0.0.0:11434/v1/v1/chat/completions"
    assert recording.endpoint == "/v1/chat/completions"
    sent = [element["__data__"] for element in recording.events]
    client = sdk(MemoryStore([recording]))
    received = list(
        client.chat.completions.create(
            model="llama3.2:3b-instruct-fp16",
            messages=[{"role": "user", "content": "Hello, world!"}],
            stream=True,
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in received) == "".join(
        c["choices"][0]["delta"]["content"] for c in sent
    )
    assert {chunk.system_fingerprint for chunk in received} == {"fp_ollama"}
    assert received[-1].choices[0].finish_reason == "stop"
