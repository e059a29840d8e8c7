"""The two auto-started engines side by side: llama-cpp-python's server and llama.cpp's native
server (xllamacpp), on the default SmolLM2-135M model. Prints, per engine: start-up time (the
process started until ``/v1/models`` answers), tokens per second of one streamed chat answer,
and the wall time of two answers asked at once (what two xdist workers sharing a server see).

    python benchmarks/engines.py [--tokens 64] [--repeats 3]

Informs the choice in docs/engines.md; not part of benchmarks/run.py (it needs both engines
and takes a minute).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``replay`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay.engines import native_server
from replay.engines.llama_cpp_python import LlamaServer, default_model_path, free_port


def chat(base_url: str, tokens: int, prompt: str) -> tuple[int, float]:
    """Completion tokens and seconds of one non-streamed chat answer."""
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": tokens,
        "temperature": 0,
    }
    request = urllib.request.Request(
        base_url + "/chat/completions",
        json.dumps(body).encode(),
        {"content-type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as reply:
        answer = json.loads(reply.read())
    return int(answer["usage"]["completion_tokens"]), time.perf_counter() - started


def measure(name: str, start: Callable[[Path], LlamaServer], tokens: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        server = start(Path(folder))
        startup = time.perf_counter() - started
        try:
            chat(server.base_url, 4, "Hi")  # warm up
            rates = []
            for index in range(repeats):
                count, seconds = chat(server.base_url, tokens, f"Tell me a long story {index}")
                rates.append(count / seconds)
            walls: list[float] = []

            def ask(index: int) -> None:
                walls.append(chat(server.base_url, tokens, f"Write a poem {index}")[1])

            started = time.perf_counter()
            threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            both = time.perf_counter() - started
        finally:
            server.stop()
    print(
        f"{name:18} start-up {startup:5.1f} s | {statistics.median(rates):5.1f} tokens/s "
        f"(median of {repeats}) | two at once: {both:5.1f} s (one alone "
        f"{tokens / statistics.median(rates):4.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    model = default_model_path()
    measure(
        "llama-cpp-python",
        lambda log: LlamaServer.start(model, log, port=free_port()),
        options.tokens,
        options.repeats,
    )
    measure(
        "llama.cpp native",
        lambda log: native_server.start(model, log, free_port()),
        options.tokens,
        options.repeats,
    )


if __name__ == "__main__":
    main()
