"""llama.cpp's own C++ server, from the ``xllamacpp`` wheel, in a child process.

It serves what llama-cpp-python's server does not: the Anthropic Messages API
(``/v1/messages``, ``/v1/messages/count_tokens``), the OpenAI Responses API (``/v1/responses``,
``/v1/responses/input_tokens``) and llama.cpp's ``/completion``, with parallel slots
(continuous batching) and the model's Jinja chat template (``use_jinja``, which tool calls need).

Why a child process rather than ``xllamacpp.Server`` in the pytest process: the server runs on
C++ threads that do not hold the GIL (measured: a Python loop in the same process ran no slower
while it generated than the CPU contention explains), but it has no stop method, it would
print its log into the test output, and a crash (an illegal instruction on a CPU the wheel was
not built for) would take the whole pytest run with it. A child is stopped, logged and
explained like the llama-cpp-python one.

Run as ``python -m replay.engines.native_server --model PATH --alias NAME --port PORT``.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from replay.engines.llama_cpp_python import (
    LazyServer,
    LlamaServer,
    default_model_path,
    model_alias,
)
from replay.errors import ServerStartError

# Two slots: two tests (xdist workers, or threads of one test) are answered at once without
# one waiting for the other; each slot has the 2,048 tokens of context llama-cpp-python has.
PARALLEL = 2
# One generating thread. llama.cpp's threads wait for each other at every step: on two cores
# shared with pytest, xdist workers and other servers, two threads made 1-2 tokens/s where one
# makes 40-100 (benchmarks/engines.py, docs/engines.md).
THREADS = 1
CONTEXT_PER_SLOT = 2048
INSTALL = "pip install xllamacpp"


def start(model_path: Path, log_dir: Path, port: int, timeout: float = 120.0) -> LlamaServer:
    """Start the native server on ``port`` and wait until ``/v1/models`` answers."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise ServerStartError(
            "pytest-llm-playback: recording the Anthropic Messages or OpenAI Responses API with "
            f"the auto-started server needs llama.cpp's native server: {INSTALL} "
            "(or record against a server you run with --llm-server-url URL)"
        )
    if not model_path.is_file():
        raise ServerStartError(
            f"pytest-llm-playback: model file {model_path} does not exist; "
            "pass --llm-model PATH.gguf"
        )
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"llama-native-server-{port}.log"
    alias = model_alias(model_path)
    command = [
        sys.executable, "-m", "replay.engines.native_server",
        "--model", str(model_path), "--alias", alias, "--port", str(port),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = LlamaServer(process, port, alias, log_path)
    server._wait_ready(timeout)  # the same readiness check and errors as llama-cpp-python's
    return server


@dataclass
class LazyNativeServer(LazyServer):
    """The native server, on a port chosen now, started by the first request that needs it,
    and not tried again once it failed (as ``LazyServer``). ``model_path`` None means the
    default model."""

    label: ClassVar[str] = "llama.cpp's native server"
    described: ClassVar[str] = "llama.cpp's native server"

    def model_to_serve(self) -> Path:
        return self.model_path or default_model_path()

    def start(self, model_path: Path) -> LlamaServer:
        return start(model_path, self.log_dir, self.port)


def serve(model: str, alias: str, port: int) -> None:  # pragma: no cover - in the child
    """Run the server until the process is terminated."""
    import xllamacpp as xlc  # type: ignore[import-untyped]

    params = xlc.CommonParams()
    params.model.path = model
    params.model_alias = {alias}
    params.port = port
    params.n_parallel = PARALLEL
    params.n_ctx = CONTEXT_PER_SLOT * PARALLEL
    params.use_jinja = True
    params.cpuparams.n_threads = THREADS
    params.cpuparams_batch.n_threads = THREADS
    server = xlc.Server(params)
    print(f"pytest-llm-playback: listening on {server.listening_address}", flush=True)
    while True:
        signal.pause()  # SIGTERM ends the process


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - in the child
    """The child process's entry point."""
    parser = argparse.ArgumentParser(prog="python -m replay.engines.native_server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(argv)
    serve(options.model, options.alias, options.port)


if __name__ == "__main__":  # pragma: no cover
    main()
