"""Synthetic chat completion exchanges shaped like the real llama.cpp ones in recordings/.

An exchange is a request body and the SSE bytes a server sends for it. Its recording is made
the way live traffic is recorded: the bytes are fed through ``replay``'s own ``Recorder`` (as
tests/seedfiles.py does with the seed documents), so the files the benchmarks replay are the
files the plugin would have written.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.core.recorder import Recorder
from replay.core.recording import Recording, dumps
from replay.core.request import request_info
from replay.store.base import Store
from replay.store.directory import DirectoryStore

BASE_URL = "http://llm-playback.bench/v1"
MODEL = "smollm2"
CONTENT_TYPE = "text/event-stream; charset=utf-8"  # what llama_cpp.server sends
RECORDED_FROM = "http://127.0.0.1:8080"

# Tokens as SmolLM2 streams them: leading spaces, punctuation, line breaks, some non-ASCII.
TOKENS = (
    "Once", " upon", " a", " time", ",", " in", " a", " quiet", " village", " by", " the",
    " sea", ",", " there", " lived", " a", " curious", " robot", " named", " Pip", ".",
    "\n\n", "Pip", " loved", " to", " collect", " shells", " —", " spiral", ",", " flat",
    " and", " “", "odd", "”", " ones", " —", " and", " sort", " them", " by", " colour",
    " 🌟", ".", " Every", " morning", " it", " said", ":", " \"", "Bonjour", ",", " café",
    "!\"", "\n",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Exchange:
    """One streamed chat completion: what the client sends and what the server answers."""

    body: dict[str, Any]
    events: tuple[str, ...]  # the SSE data payloads, ``[DONE]`` last

    @property
    def sse(self) -> bytes:
        """The response body as the server sends it."""
        return "".join(f"data: {data}\n\n" for data in self.events).encode("utf-8")

    @property
    def chunks_expected(self) -> int:
        """How many chunks the openai SDK yields (every event but ``[DONE]``)."""
        return len(self.events) - 1

    def request_bytes(self) -> bytes:
        """The body as the openai SDK serializes it (compact JSON, keys in the given order)."""
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")

    def recording(self) -> Recording:
        """The recording the plugin's recorder makes of this exchange."""
        info = request_info(
            "POST",
            BASE_URL + "/chat/completions",
            [("content-type", "application/json"), ("accept", "application/json")],
            self.request_bytes(),
        )
        recorder = Recorder(
            request=info,
            status=200,
            content_type=CONTENT_TYPE,
            started=time.perf_counter(),
            server=RECORDED_FROM,
        )
        for event in self.sse.split(b"\n\n")[:-1]:  # one chunk per event, as servers send
            recorder.feed(event + b"\n\n")
        recording = recorder.finish()
        assert recording is not None, "the recorder kept no recording"
        return recording


def chunk(number: int, delta: dict[str, Any], finish_reason: str | None = None) -> str:
    """One ``chat.completion.chunk`` as llama.cpp serializes it."""
    return json.dumps(
        {
            "id": f"chatcmpl-{number:08x}-77fe-4f85-9453-05904ba94f64",
            "model": MODEL,
            "created": 1795299773,
            "object": "chat.completion.chunk",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def long_stream(events: int = 1000) -> Exchange:
    """A chat completion of ``events`` events: the role, ``events - 3`` tokens, the finish
    chunk and ``[DONE]``."""
    tokens = [TOKENS[i % len(TOKENS)] for i in range(events - 3)]
    body = {
        "messages": [{"role": "user", "content": "Tell me a very long story about a robot."}],
        "model": MODEL,
        "max_tokens": events,
        "stream": True,
        "temperature": 0,
    }
    data = [chunk(0, {"role": "assistant"})]
    data += [chunk(0, {"content": token}) for token in tokens]
    data += [chunk(0, {}, "stop"), "[DONE]"]
    return Exchange(body, tuple(data))


def small_stream(number: int) -> Exchange:
    """The ``number``-th of many short exchanges: a different question each, three events
    (the answer, the finish chunk, ``[DONE]``)."""
    body = {
        "messages": [{"role": "user", "content": f"Question {number}: what is {number} + 1?"}],
        "model": MODEL,
        "max_tokens": 8,
        "stream": True,
        "temperature": 0,
    }
    answer = chunk(number, {"role": "assistant", "content": str(number + 1)})
    return Exchange(body, (answer, chunk(number, {}, "stop"), "[DONE]"))


def write_recordings(
    folder: Path, exchanges: list[Exchange], tests: list[str | None] | None = None
) -> DirectoryStore:
    """A ``DirectoryStore`` at ``folder`` holding the recordings of ``exchanges``, each in the
    scope of its test in ``tests`` (default: shared). The files are ``dumps`` of the
    recorder's recordings, written without the per-file fsync of ``DirectoryStore.put``
    (5,000 fsyncs would only make the set-up slow)."""
    store = DirectoryStore(folder)
    for number, exchange in enumerate(exchanges):
        recording = exchange.recording()
        recording.test = tests[number] if tests is not None else None
        path = store.path(recording.test, recording.key, 0, recording.endpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(recording), encoding="utf-8")
    return store


def put_recording(store: Store, exchange: Exchange) -> str:
    """Keep the recording of ``exchange`` through the store's own (atomic) write."""
    return store.put(exchange.recording(), 0).path
