"""The ``llm-playback`` command finds the recordings folder as pytest finds its settings: from
the current folder upward, in pytest's order of files; ``--dir`` wins; ``verify`` also takes
files and folders. Run in-process on copies of the real llama.cpp recordings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from replay.cli.command_line import main
from replay.cli.project_settings import find_project_settings

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "tests" / "data" / "v1-recordings"
COUNT = len([p for p in RECORDINGS.rglob("*.json") if not p.name.startswith(".")])

CONFIGS = {
    "pyproject.toml": '[tool.pytest.ini_options]\nllm_replay_dir = "tests/recordings"\n',
    "pytest.ini": "[pytest]\nllm_replay_dir = tests/recordings\n",
    "tox.ini": "[pytest]\nllm_replay_dir = tests/recordings\n",
    "setup.cfg": "[tool:pytest]\nllm_replay_dir = tests/recordings\n",
    "pytest.toml": '[pytest]\nllm_replay_dir = "tests/recordings"\n',
}


def project(root: Path, config: str) -> Path:
    """A project whose recordings are in tests/recordings, and a folder deep inside it."""
    shutil.copytree(RECORDINGS, root / "tests" / "recordings", ignore=shutil.ignore_patterns(".*"))
    (root / config).write_text(CONFIGS[config], encoding="utf-8")
    deep = root / "src" / "app"
    deep.mkdir(parents=True)
    return deep


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_command_reads_the_project_settings_from_a_subfolder(
    tmp_path: Path, config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project(tmp_path, config))
    assert main(["verify"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{COUNT} recordings, 0 problems"
    assert main(["ls"]) == 0
    assert "chat_completions/bd3faea6f2e70907.json" in capsys.readouterr().out


def test_pytests_order_of_files_and_the_nearest_folder_win(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIGS["pyproject.toml"], encoding="utf-8")
    (tmp_path / "tox.ini").write_text("[pytest]\nllm_replay_dir = other\n", encoding="utf-8")
    assert find_project_settings(tmp_path).recordings_dir == tmp_path / "tests" / "recordings"
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    assert find_project_settings(tmp_path).recordings_dir == tmp_path / "recordings"
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "setup.cfg").write_text("[metadata]\nname = x\n", encoding="utf-8")  # not pytest's
    (inner / "tox.ini").write_text("[pytest]\nllm_replay_dir = mine\n", encoding="utf-8")
    assert find_project_settings(inner).recordings_dir == inner / "mine"


def test_dir_wins_over_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project(tmp_path, "pyproject.toml"))
    assert main(["--dir", str(tmp_path / "nowhere"), "ls"]) == 1
    assert "no recordings folder" in capsys.readouterr().err


def test_no_settings_means_recordings_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ls"]) == 1
    assert "no recordings folder recordings" in capsys.readouterr().err


def test_a_broken_settings_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["ls"]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "pyproject.toml") in err and "--dir" in err
    assert "Traceback" not in err


def test_verify_takes_files_and_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project(tmp_path, "pyproject.toml").parents[1])
    folder = Path("tests/recordings")
    chats = len(list((folder / "chat_completions").glob("*.json")))
    model_file = next((folder / "models").glob("*.json"))
    assert main(["verify", str(folder / "chat_completions"), str(model_file)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{chats + 1} recordings, 0 problems"

    # A file copied elsewhere under another name: checked, and found out of place.
    stray = tmp_path / "stray" / "models" / "renamed.json"
    stray.parent.mkdir(parents=True)
    shutil.copy(model_file, stray)
    assert main(["verify", str(stray)]) == 1
    out = capsys.readouterr().out
    # A version-1 file (no test) away from its flat place belongs to the shared scope.
    assert f"{stray}: replay looks for this request at _shared/models-{model_file.name}" in out
    assert out.splitlines()[-2] == "1 recording, 1 problem"

    assert main(["verify", "nope.json"]) == 1
    assert "no file or folder nope.json" in capsys.readouterr().err
