"""The llama.cpp launcher's diagnoses; starting the real server is in test_real_server.py."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from replay.errors import ServerStartError
from replay.server import (
    PORTABLE_CMAKE_ARGS,
    LlamaServer,
    explain_exit,
    free_port,
    model_alias,
)


def test_sigill_names_the_cpu_and_the_rebuild_command() -> None:
    for code in (-signal.SIGILL, 128 + signal.SIGILL):
        message = explain_exit(code, "")
        assert "SIGILL" in message and "CPU features" in message
        assert PORTABLE_CMAKE_ARGS in message and "--no-cache-dir" in message


def test_a_real_sigill_exit_is_explained(tmp_path: Path) -> None:
    """A process that dies of SIGILL while starting is reported as such."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    )
    server = LlamaServer(process, free_port(), "m", tmp_path / "log")
    with pytest.raises(ServerStartError, match="SIGILL"):
        server._wait_ready(timeout=10)


def test_other_exits_show_the_server_output() -> None:
    message = explain_exit(1, "ValueError: Failed to load model from file")
    assert "exited with code 1" in message and "Failed to load model" in message


def test_missing_llama_cpp_says_how_to_install() -> None:
    message = explain_exit(1, "/usr/bin/python: No module named llama_cpp")
    assert "not installed" in message and "llama-cpp-python[server]" in message


def test_model_alias() -> None:
    assert model_alias(Path("/x/SmolLM2-135M-Instruct.Q4_1.gguf")) == "smollm2"
    assert model_alias(Path("/x/qwen2.5-0.5b.Q8_0.gguf")) == "qwen2.5-0.5b.Q8_0"


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="does not exist"):
        LlamaServer.start(tmp_path / "nope.gguf", tmp_path)
