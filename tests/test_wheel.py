"""The built wheel replays the examples: installed into a fresh virtual environment (no
source tree on the path), it runs the example suite from the committed recordings with every
socket connect failing. This catches a module, the type marker or the entry points missing
from the distribution. ``scripts/test.sh`` builds the wheel once and names it in
LLM_PLAYBACK_WHEEL; without it the test builds one.

It needs the package index: the fresh environment installs openai and anthropic from it (and
building the wheel may fetch setuptools). It is marked ``package_index``: ``pytest -m "not
package_index"`` leaves it out on a machine without one; CI runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import BLOCK_NETWORK, recording_files

REPO = Path(__file__).resolve().parents[1]


def built_wheel(tmp_path: Path) -> Path:
    given = os.environ.get("LLM_PLAYBACK_WHEEL")
    if given:
        return Path(given)
    # sdist first, then the wheel from the unpacked sdist (what `python -m build` does with no
    # flag): a file missing from the sdist is missing from the wheel, and a stale build/ folder
    # in the work tree (setuptools copies only files it thinks are newer) cannot leak in.
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("*.whl")
    return wheel


@pytest.mark.package_index
def test_the_built_wheel_replays_the_examples(tmp_path: Path) -> None:
    wheel = built_wheel(tmp_path)
    assert wheel.name.startswith("pytest_llm_playback-")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {path.relative_to(REPO).as_posix() for path in (REPO / "replay").rglob("*.py")}
    assert "replay/core/recording.py" in sources  # every subpackage's modules, not the top's
    assert sources | {"replay/py.typed"} <= names, sorted(sources - names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(wheel), f"openai=={version('openai')}", f"anthropic=={version('anthropic')}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]

    project = tmp_path / "project"
    shutil.copytree(REPO / "examples", project / "examples", ignore=shutil.ignore_patterns("__py*"))
    shutil.copytree(REPO / "recordings", project / "recordings")
    (project / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n", encoding="utf-8")
    (project / "blocknet.py").write_text(BLOCK_NETWORK, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(project)}
    environment.pop("LLM_PLAYBACK_MODE", None)
    environment.pop("LLM_REPLAY_MODE", None)
    run = subprocess.run(
        [str(python), "-m", "pytest", "examples", "-p", "blocknet", "-p", "no:cacheprovider"],
        cwd=project, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    count = len(recording_files(REPO / "recordings"))  # one recording per example
    assert f"{count} passed" in run.stdout
    assert f"{count} replayed, 0 recorded, 0 missed" in run.stdout
    where = subprocess.run(
        [str(python), "-c", "import replay; print(replay.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert str(venv) in where.stdout, "the replay package came from the wheel"
    command = subprocess.run(
        [str(venv / "bin" / "llm-playback"), "verify"],
        cwd=project, capture_output=True, text=True,
    )  # fmt: skip
    assert command.returncode == 0, command.stdout + command.stderr
