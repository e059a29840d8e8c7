"""The example suite replays the committed recordings/ (made by the real llama.cpp server with
``pytest examples --record``) with no server, no model and no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from replay.core.recording import dumps, loads
from tests.conftest import BLOCK_NETWORK, recording_files

REPO = Path(__file__).resolve().parents[1]


def test_examples_replay_offline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    recordings = pytester.path / "recordings"
    shutil.copytree(REPO / "recordings", recordings)
    result = pytester.runpytest_subprocess(
        str(REPO / "examples"),
        "--rootdir",
        str(REPO),
        "-p",
        "blocknet",
        "-p",
        "no:cacheprovider",
        "--record-mode",
        "replay",
        "--llm-recordings-dir",
        str(recordings),
    )
    result.assert_outcomes(passed=15)
    result.stdout.fnmatch_lines(["*15 replayed, 0 recorded, 0 missed*"])


def test_committed_recordings_come_from_the_real_server() -> None:
    files = recording_files(REPO / "recordings")
    assert files
    for path in files:
        recording = loads(path.read_bytes(), str(path))
        assert recording.recorded["server"].startswith("http://127.0.0.1:"), path
        assert recording.recorded["by"].startswith("pytest-llm-playback"), path
        text = path.read_text(encoding="utf-8")
        assert text == dumps(loads(text)), f"{path} is not laid out as the recorder writes"
