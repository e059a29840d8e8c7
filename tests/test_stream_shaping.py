"""Replayed answers shaped, on the recordings a real llama.cpp server made (recordings/) and
on the seeds: every chunking mode gives the SDKs the same objects, pace reproduces the
recorded timing, and faults reach the client as the real failures do.

The SDK parser is chosen by the recording's endpoint (``SDK_STREAMS``), so that recordings of
other APIs (Anthropic ``/v1/messages``, OpenAI ``/v1/responses``) are covered as soon as
they are in recordings/; a streamed recording of an endpoint with no parser here fails the
test rather than being skipped.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.core.http_flavours import flavour_module
from replay.core.recording import Recording, loads
from replay.player import Player
from replay.shaping.chunking import Chunking
from replay.shaping.faults import CutAfter, DelayFirstByte, FailWith
from replay.shaping.plan import Shaping
from replay.store.memory import MemoryStore
from replay.transports.httpx_transport import replay_transport
from tests.conftest import recording_files
from tests.seedfiles import SEEDS, curl_seed, llama_stack_text, ollama_seed

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "recordings"
CHUNKINGS = ["event", "bytes:1", "bytes:2", "bytes:7", "bytes:64", "merged", "random:1"]


def committed() -> list[Recording]:
    """The streamed recordings in recordings/, which a real server made."""
    loaded = [loads(path.read_bytes(), str(path)) for path in recording_files(RECORDINGS)]
    return [recording for recording in loaded if recording.is_streaming]


def seeds() -> list[Recording]:
    """The streamed seed exchanges as recordings."""
    made = [
        curl_seed("000_a30d2370a65b8133.txt").record(),
        curl_seed("001_1cfb8fc5d5cf4d6d.txt").record(),
    ]
    made += [exchange.record() for exchange in ollama_seed() if exchange.streaming]
    made.append(loads((SEEDS / "002_1b278b56b763379a.txt").read_bytes(), "002"))
    made.append(loads(llama_stack_text("003_11d0a2173aefbf3a.txt"), "003"))
    return [recording for recording in made if recording.is_streaming]


def name_of(recording: Recording) -> str:
    return Path(recording.source or "seed").name


STREAMED = committed() + seeds()


# --- the SDKs, by endpoint -------------------------------------------------------------------


def sdk_flavour(module: Any) -> Any:
    """The HTTP client module an SDK is built on (its ``DefaultHttpxClient``'s base)."""
    return next(
        flavour_module(base.__module__.split(".")[0])
        for base in module.DefaultHttpxClient.__mro__
        if base.__name__ == "Client" and base.__module__.split(".")[0] in ("httpx", "httpx2")
    )


def openai_events(cast_to: Callable[[], Any]) -> Callable[[Recording, Shaping], list[Any]]:
    def read(recording: Recording, shaping: Shaping) -> list[Any]:
        kind = cast_to()
        http = sdk_flavour(openai)
        transport = replay_transport(
            Player(MemoryStore([recording]), "replay", test=recording.test),
            http.__name__,
            shaping=shaping,
        )
        with openai.OpenAI(
            base_url="http://replay.test/v1",
            api_key="unused",
            max_retries=0,
            http_client=http.Client(transport=transport),
        ) as client:
            stream = client.post(
                recording.endpoint.removeprefix("/v1"),
                body=recording.body,
                cast_to=kind,
                stream=True,
                stream_cls=openai.Stream[kind],
            )
            return list(stream)

    return read


def anthropic_events(recording: Recording, shaping: Shaping) -> list[Any]:
    anthropic = pytest.importorskip("anthropic")
    from anthropic.types import RawMessageStreamEvent

    http = sdk_flavour(anthropic)
    transport = replay_transport(
        Player(MemoryStore([recording]), "replay", test=recording.test),
        http.__name__,
        shaping=shaping,
    )
    with anthropic.Anthropic(
        base_url="http://replay.test",
        api_key="unused",
        max_retries=0,
        http_client=http.Client(transport=transport),
    ) as client:
        stream = client.post(
            "/v1/messages",
            body=recording.body,
            cast_to=RawMessageStreamEvent,
            stream=True,
            stream_cls=anthropic.Stream[RawMessageStreamEvent],
        )
        return list(stream)


def _chat_chunk() -> Any:
    return openai.types.chat.ChatCompletionChunk


def _completion() -> Any:
    return openai.types.Completion


def _response_event() -> Any:
    return openai.types.responses.ResponseStreamEvent


SDK_STREAMS: dict[str, Callable[[Recording, Shaping], list[Any]]] = {
    "/v1/chat/completions": openai_events(_chat_chunk),
    "/v1/completions": openai_events(_completion),
    "/v1/responses": openai_events(_response_event),
    "/v1/messages": anthropic_events,
}


def sdk_objects(recording: Recording, shaping: Shaping) -> list[Any]:
    read = SDK_STREAMS.get(recording.endpoint)
    assert read is not None, (
        f"{recording.source}: no SDK parser for streamed {recording.endpoint}; "
        "add one to SDK_STREAMS"
    )
    return read(recording, shaping)


# --- chunking -------------------------------------------------------------------------------


def test_there_are_recordings_of_the_real_server_and_seeds_to_shape() -> None:
    assert len(committed()) >= 3 and len(seeds()) >= 4


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("recording", STREAMED, ids=name_of)
def test_every_chunking_gives_the_sdk_the_same_objects(recording: Recording, chunking: str) -> None:
    expected = sdk_objects(recording, Shaping())
    assert len(expected) >= 2
    assert sdk_objects(recording, Shaping(chunking=Chunking.parse(chunking))) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**64))
def test_random_chunking_gives_the_sdk_the_same_objects(seed: int) -> None:
    for recording in STREAMED:
        shaped = sdk_objects(recording, Shaping(chunking=Chunking("random", seed=seed)))
        assert shaped == sdk_objects(recording, Shaping()), name_of(recording)


def test_byte_by_byte_delivery_really_is_byte_by_byte() -> None:
    """The control: the chunks the client reads are the mode's, not the events."""
    recording = committed()[0]
    http = sdk_flavour(openai)
    for chunking, check in [
        ("bytes:1", lambda sizes: set(sizes) == {1}),
        ("merged", lambda sizes: len(sizes) == 1),
        ("event", lambda sizes: len(sizes) == len(recording.events)),
    ]:
        shaping = Shaping(chunking=Chunking.parse(chunking))
        transport = replay_transport(
            Player(MemoryStore([recording]), "replay", test=recording.test),
            http.__name__,
            shaping=shaping,
        )
        with http.Client(transport=transport) as client:
            request = client.build_request(
                "POST", "http://h/v1" + recording.endpoint.removeprefix("/v1"), json=recording.body
            )
            response = client.send(request, stream=True)
            sizes = [len(chunk) for chunk in response.iter_raw()]
            response.close()
        assert check(sizes), (chunking, sizes[:10])


# --- pace ------------------------------------------------------------------------------------


def timed_read(recording: Recording, shaping: Shaping) -> tuple[float, float, int]:
    """Seconds to the first SDK object and to the end of the stream, and the count. Timed
    from the moment the request reaches the transport, as the recorder times events."""
    first: list[float] = []
    sent: list[float] = []
    http = sdk_flavour(openai)
    transport = replay_transport(
        Player(MemoryStore([recording]), "replay", test=recording.test),
        http.__name__,
        shaping=shaping,
    )
    hooks = {"request": [lambda request: sent.append(time.perf_counter())]}
    with openai.OpenAI(
        base_url="http://replay.test/v1",
        api_key="unused",
        max_retries=0,
        http_client=http.Client(transport=transport, event_hooks=hooks),
    ) as client:
        stream = client.post(
            recording.endpoint.removeprefix("/v1"),
            body=recording.body,
            cast_to=object,
            stream=True,
            stream_cls=openai.Stream[object],
        )
        count = 0
        for _ in stream:
            if not first:
                first.append(time.perf_counter() - sent[0])
            count += 1
        return first[0], time.perf_counter() - sent[0], count


@pytest.mark.parametrize("recording", committed(), ids=name_of)
def test_pace_1_replays_at_the_recorded_pace(recording: Recording) -> None:
    """Within 10 % of the recorded time to the first event and total. A replay can only be
    late (a sleep never ends early), and on a loaded machine it is late by how long the test
    waited for a core: the best of up to five tries is taken."""
    assert recording.event_ms is not None
    recorded_first, recorded_total = recording.event_ms[0] / 1000, recording.event_ms[-1] / 1000
    tries = []
    for _ in range(5):
        first, total, _ = timed_read(recording, Shaping(pace=1.0))
        tries.append(
            (max(abs(first / recorded_first - 1), abs(total / recorded_total - 1)), first, total)
        )
        if tries[-1][0] <= 0.10:
            break
    off, first, total = min(tries)
    print(
        f"{name_of(recording)}: first event {first * 1000:.1f} ms (recorded "
        f"{recorded_first * 1000:.1f}), total {total * 1000:.1f} ms "
        f"(recorded {recorded_total * 1000:.1f}), {len(tries)} tries"
    )
    assert off <= 0.10


def test_pace_0_adds_nothing() -> None:
    """pace=0 is plain replay: no shaper on the transport, and the slowest recording replays in
    a small part of its recorded time."""
    [slowest] = sorted(committed(), key=lambda r: r.event_ms[-1] if r.event_ms else 0)[-1:]
    assert slowest.event_ms is not None and slowest.event_ms[-1] > 300
    transport = replay_transport(
        Player(MemoryStore([slowest]), "replay", test=slowest.test), shaping=Shaping(pace=0)
    )
    assert transport._shaper is None
    plain = min(timed_read(slowest, Shaping())[1] for _ in range(5))
    paced_zero = min(timed_read(slowest, Shaping(pace=0.0))[1] for _ in range(5))
    print(
        f"pace=0: {paced_zero * 1000:.2f} ms, plain: {plain * 1000:.2f} ms, "
        f"recorded {slowest.event_ms[-1]:.0f} ms"
    )
    assert paced_zero < slowest.event_ms[-1] / 1000 / 10


def longest_pause_of_the_loop(recording: Recording, sleep: Any = None) -> tuple[float, float]:
    """Replay ``recording`` at pace 1 to an async client while a task ticks every 5 ms: the
    longest the ticker had to wait for the event loop, and how long the stream took."""
    http = sdk_flavour(openai)

    async def run() -> tuple[float, float]:
        transport = replay_transport(
            Player(MemoryStore([recording]), "replay", test=recording.test),
            http.__name__,
            shaping=Shaping(pace=1.0),
        )
        ticks: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            while not done.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.005)

        async with openai.AsyncOpenAI(
            base_url="http://replay.test/v1",
            api_key="unused",
            http_client=http.AsyncClient(transport=transport),
        ) as client:
            ticker = asyncio.create_task(tick())  # once the client is built
            await asyncio.sleep(0)
            started = time.perf_counter()
            stream = await client.post(
                recording.endpoint.removeprefix("/v1"),
                body=recording.body,
                cast_to=object,
                stream=True,
                stream_cls=openai.AsyncStream[object],
            )
            async for _ in stream:
                pass
            took = time.perf_counter() - started
            ticks.append(time.perf_counter())  # the stall that ends with the stream counts
        done.set()
        await ticker
        return max(b - a for a, b in itertools.pairwise(ticks)), took

    return asyncio.run(run())


def slow_first_event() -> Recording:
    """A recording of the real server with a first event 0.15 to 2 s after its request."""
    return next(r for r in committed() if r.event_ms and 0.15 < r.event_ms[0] / 1000 < 2)


def test_pace_does_not_block_the_event_loop() -> None:
    recording = slow_first_event()
    assert recording.event_ms is not None
    pause, took = longest_pause_of_the_loop(recording)
    print(f"longest wait of the event loop {pause * 1000:.1f} ms, stream {took * 1000:.1f} ms")
    assert took >= recording.event_ms[-1] / 1000 * 0.9
    # Blocked, the loop would stand still for the whole wait for the first event.
    assert pause < recording.event_ms[0] / 1000 / 2


def test_a_blocking_sleep_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: with the async waits made blocking, the loop stands still."""
    import anyio

    async def blocking(seconds: float) -> None:
        time.sleep(seconds)

    monkeypatch.setattr(anyio, "sleep", blocking)
    recording = slow_first_event()
    assert recording.event_ms is not None
    pause, _ = longest_pause_of_the_loop(recording)
    assert pause >= recording.event_ms[0] / 1000 / 2


# --- faults ----------------------------------------------------------------------------------

JOKE = (
    RECORDINGS
    / "examples"
    / "test_examples"
    / "test_joke"
    / "chat_completions-bd3faea6f2e70907.json"
)


def joke_client(shaping: Shaping, **options: Any) -> openai.OpenAI:
    http = sdk_flavour(openai)
    recording = loads(JOKE.read_bytes(), str(JOKE))
    transport = replay_transport(
        Player(MemoryStore([recording]), "replay", test=recording.test),
        http.__name__,
        shaping=shaping,
    )
    return openai.OpenAI(
        base_url="http://replay.test/v1",
        api_key="unused",
        http_client=http.Client(transport=transport),
        **options,
    )


def ask_for_the_joke(client: openai.OpenAI) -> str:
    stream = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Tell me a joke"}],
        stream=True,
        temperature=0,
        max_tokens=32,
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_a_cut_stream_raises_as_a_dead_server_does() -> None:
    """As tests/test_real_server_failures.py::test_server_dying_mid_stream_records_nothing
    sees it (and tests/test_stream_faults_real_server.py compares against the real thing)."""
    client = joke_client(Shaping(faults=(CutAfter(3),)), max_retries=0)
    received = 0
    http = sdk_flavour(openai)
    with pytest.raises((openai.APIConnectionError, http.RemoteProtocolError)) as caught:
        for _ in client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "Tell me a joke"}],
            stream=True,
            temperature=0,
            max_tokens=32,
        ):
            received += 1
    assert received == 3
    assert "incomplete chunked read" in repr(caught.value) + repr(caught.value.__cause__)


def test_status_faults_then_the_recording() -> None:
    fault = FailWith(429, {"retry-after": "0"}, times=2)
    assert ask_for_the_joke(joke_client(Shaping(faults=(fault,)), max_retries=2)).startswith("What")
    with pytest.raises(openai.RateLimitError) as caught:  # the control: one retry is not enough
        ask_for_the_joke(joke_client(Shaping(faults=(fault,)), max_retries=1))
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "0"


def test_a_late_first_byte_makes_the_client_time_out_then_a_retry_replays() -> None:
    shaping = Shaping(faults=(DelayFirstByte(30),))
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        ask_for_the_joke(joke_client(shaping, max_retries=0, timeout=0.2))
    assert 0.2 <= time.perf_counter() - started < 5, "timed out after the client's timeout"
    assert ask_for_the_joke(joke_client(shaping, max_retries=1, timeout=0.2)).startswith("What")


def test_a_short_delay_only_delays() -> None:
    started = time.perf_counter()
    assert ask_for_the_joke(joke_client(Shaping(faults=(DelayFirstByte(0.3),)))).startswith("What")
    assert time.perf_counter() - started >= 0.3


def test_a_late_first_byte_times_out_async_clients_too() -> None:
    http = sdk_flavour(openai)
    recording = loads(JOKE.read_bytes(), str(JOKE))
    sent: list[float] = []

    async def note(request: Any) -> None:
        sent.append(time.perf_counter())

    async def run() -> None:
        transport = replay_transport(
            Player(MemoryStore([recording]), "replay", test=recording.test),
            http.__name__,
            shaping=Shaping(faults=(DelayFirstByte(30),)),
        )
        client = http.AsyncClient(transport=transport, event_hooks={"request": [note]})
        async with openai.AsyncOpenAI(
            base_url="http://replay.test/v1",
            api_key="unused",
            max_retries=0,
            timeout=0.2,
            http_client=client,
        ) as sdk:
            await sdk.chat.completions.create(
                model="smollm2",
                messages=[{"role": "user", "content": "Tell me a joke"}],
                stream=True,
                temperature=0,
                max_tokens=32,
            )

    with pytest.raises(openai.APITimeoutError):
        asyncio.run(run())
    waited = time.perf_counter() - sent[0]
    assert 0.2 <= waited < 5, "timed out after the client's timeout, not the 30 s delay"
