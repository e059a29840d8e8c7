"""Section 4: recording. A streamed chat completion from the real llama.cpp server (SmolLM2,
temperature 0, a fixed prompt), read through the recorder and directly, alternating: the time
to the first event the SDK yields, and the time until the stream is read to its end (for the
recorder, that includes writing the file, which happens when the SDK closes the response)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.clients import replay_client, sdk_client
from benchmarks.report import Row, Where, difference_row, info_row, not_applicable, ratio_row
from benchmarks.timing import TOTAL, Timed, Variant, interleaved
from replay import Player, replay_transport
from replay.core.http_flavours import Flavour, flavour_module
from replay.engines.llama_cpp_python import LlamaServer, default_model_path
from replay.errors import LLMReplayError
from replay.store.directory import DirectoryStore

SECTION = "4 recording"
FIRST_EVENT = "first_event"
AFTER_LAST = "after_last_event"  # from the last chunk to the loop's end: [DONE], close, write
MAX_TOKENS = 64
PROMPT = "Write a short poem about the sea."
FIRST_EVENT_LIMIT_MS = 1.0
TOTAL_LIMIT = 1.02
PACE_MS = 8.0  # SmolLM2 on these CPUs: about 130 tokens a second


def run(flavour: Flavour, workdir: Path, repeats: int) -> list[Row]:
    """Start the server, warm it up, then alternate direct and recorded requests."""
    measure = f"streamed chat, max_tokens {MAX_TOKENS}, real llama.cpp"
    try:
        server = LlamaServer.start(default_model_path(), workdir / "server")
    except LLMReplayError as error:
        return [not_applicable(Where(SECTION, flavour, measure), f"no server: {error}")]
    try:
        with _own_cores(server.process.pid):
            rows = _measure(server, flavour, workdir / "recorded", repeats, measure)
    finally:
        server.stop()
    return rows + _paced(flavour, workdir / "paced", repeats)


def _paced(flavour: Flavour, folder: Path, repeats: int) -> list[Row]:
    """Diagnostic rows: the same comparison against benchmarks/paced_server.py, which sends
    the stream at a fixed pace. What moves these rows is the client's own work, recorder
    included, not the model's speed."""
    import openai

    script = Path(__file__).with_name("paced_server.py")
    command = [sys.executable, str(script), str(MAX_TOKENS + 3), str(PACE_MS)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        body = {"model": "smollm2", "messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": MAX_TOKENS, "stream": True}  # fmt: skip
        store = DirectoryStore(folder)
        texts: set[str] = set()
        variants: dict[str, Variant] = {
            "direct": lambda: _reading(sdk_client(openai, flavour, base_url), body, texts),
            "recorder": lambda: _reading(
                replay_client(store, flavour, base_url, mode="record"), body, texts
            ),
        }
        with _own_cores(server.pid):
            figures = interleaved(variants, repeats, warmups=2)
    finally:
        server.kill()
        server.wait()
    paced = f"paced local server ({MAX_TOKENS} tokens, {PACE_MS:g} ms apart)"
    rows = [
        difference_row(
            Where(SECTION, flavour, f"time to first event, {paced}"),
            figures["recorder"], "direct", figures["direct"], FIRST_EVENT_LIMIT_MS,
            key=FIRST_EVENT, cpu_key=None,
        ),
        ratio_row(
            Where(SECTION, flavour, f"total, {paced}"),
            figures["recorder"], "direct", figures["direct"], TOTAL_LIMIT,
        ),
    ]  # fmt: skip
    for row in rows:
        row.target, row.verdict = f"(diagnostic) {row.target}", "info"
    return rows


@contextmanager
def _own_cores(server_pid: int) -> Iterator[None]:
    """The server's threads on the last core, this process on the others (when there are
    two or more): the recorder's own work then does not slow the server's generation, which
    would show as recorder time. Both pinnings end with the block."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) < 2:
        yield
        return
    tasks = Path(f"/proc/{server_pid}/task")
    threads = [int(task.name) for task in tasks.iterdir()] if tasks.is_dir() else [server_pid]
    for thread in threads:
        os.sched_setaffinity(thread, {cores[-1]})
    os.sched_setaffinity(0, set(cores[:-1]))
    try:
        yield
    finally:
        os.sched_setaffinity(0, set(cores))


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
