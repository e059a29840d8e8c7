"""Section 4: recording. A streamed chat completion from the real llama.cpp server (SmolLM2,
temperature 0, a fixed prompt), read through the recorder and directly, alternating: the time
to the first event the SDK yields, and the time until the stream is read to its end (for the
recorder, that includes writing the file, which happens when the SDK closes the response)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.clients import replay_client, sdk_client
from benchmarks.report import Row, Where, difference_row, info_row, not_applicable, ratio_row
from benchmarks.timing import TOTAL, Timed, Variant, interleaved
from replay import Player, replay_transport
from replay.errors import LLMReplayError
from replay.server import LlamaServer, default_model_path
from replay.store import DirectoryStore
from replay.transport import Flavour, flavour_module

SECTION = "4 recording"
FIRST_EVENT = "first_event"
AFTER_LAST = "after_last_event"  # from the last chunk to the loop's end: [DONE], close, write
MAX_TOKENS = 64
PROMPT = "Write a short poem about the sea."
FIRST_EVENT_LIMIT_MS = 1.0
TOTAL_LIMIT = 1.02


def run(flavour: Flavour, workdir: Path, repeats: int) -> list[Row]:
    """Start the server, warm it up, then alternate direct and recorded requests."""
    measure = f"streamed chat, max_tokens {MAX_TOKENS}, real llama.cpp"
    try:
        server = LlamaServer.start(default_model_path(), workdir / "server")
    except LLMReplayError as error:
        return [not_applicable(Where(SECTION, flavour, measure), f"no server: {error}")]
    try:
        return _measure(server, flavour, workdir / "recorded", repeats, measure)
    finally:
        server.stop()


def _measure(
    server: LlamaServer, flavour: Flavour, folder: Path, repeats: int, measure: str
) -> list[Row]:
    import openai

    body = {
        "model": server.model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
    }
    store = DirectoryStore(folder)
    texts: dict[str, set[str]] = {name: set() for name in ("direct", "recorder", "eager")}
    http = flavour_module(flavour)

    def eager() -> Timed:
        """Diagnostic: the recorder with its real transport made in set-up, as the direct
        client's is (the shipped transport makes it on the first request)."""
        player = Player(store, "record")
        transport = replay_transport(player, flavour, real=http.HTTPTransport())
        client = sdk_client(openai, flavour, server.base_url, transport)
        return _reading(client, body, texts["eager"])

    variants: dict[str, Variant] = {
        "direct": lambda: _reading(
            sdk_client(openai, flavour, server.base_url), body, texts["direct"]
        ),
        "recorder": lambda: _reading(
            replay_client(store, flavour, server.base_url, mode="record"),
            body,
            texts["recorder"],
        ),
        "eager": eager,
    }
    figures = interleaved(variants, repeats, warmups=2)
    written = sorted(folder.rglob("*.json"))
    assert len(written) == 1, f"the recorder wrote {written}, expected one file"
    direct, recorder, eager_ = figures["direct"], figures["recorder"], figures["eager"]
    first = Where(SECTION, flavour, "time to first event")
    total = Where(SECTION, flavour, "total, stream read to its end")
    rows = [
        difference_row(
            first, recorder, "direct", direct, FIRST_EVENT_LIMIT_MS, key=FIRST_EVENT, cpu_key=None
        ),
        ratio_row(total, recorder, "direct", direct, TOTAL_LIMIT),
    ]
    diagnostics = (
        (first.measure + ", real transport made in set-up", eager_, FIRST_EVENT),
        (total.measure + ", real transport made in set-up", eager_, TOTAL),
        ("last event to end of loop (the recording is written)", recorder, AFTER_LAST),
    )
    for measure_, figures_, key in diagnostics:
        row = difference_row(
            Where(SECTION, flavour, measure_), figures_, "direct", direct, 0.0, key=key
        )
        row.target, row.verdict = "(diagnostic)", "info"
        rows.append(row)
    same = all(found == texts["direct"] for found in texts.values()) and len(texts["direct"]) == 1
    rows.append(
        info_row(
            Where(SECTION, flavour, measure + ", direct"),
            direct[TOTAL],
            note="same text every time, every way" if same else "the server's answers varied",
        )
    )
    return rows


def _reading(client: Any, body: dict[str, Any], texts: set[str]) -> Timed:
    def timed() -> dict[str, float]:
        started = time.perf_counter()
        stream = client.chat.completions.create(**body)
        first: float | None = None
        parts = []
        last = started
        for chunk in stream:
            last = time.perf_counter()
            if first is None:
                first = last - started
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
        ended = time.perf_counter()
        assert first is not None, "the stream was empty"
        texts.add("".join(parts))
        return {FIRST_EVENT: first, AFTER_LAST: ended - last}

    return timed
