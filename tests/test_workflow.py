"""The GitHub Actions workflow users copy is valid YAML of the shape Actions runs, its
commands are ones this project installs, and docs/ci.md shows the same steps."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "replay.yml"


def load() -> dict[object, object]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(workflow, dict)
    return workflow


def test_the_workflow_is_one_replay_job() -> None:
    workflow = load()
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    assert workflow.get("on", workflow.get(True)) == ["push", "pull_request"]
    [job] = workflow["jobs"].values()  # type: ignore[union-attr]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"] == {"LLM_PLAYBACK_MODE": "replay"}
    steps = job["steps"]
    assert [step.get("uses", "").split("@")[0] for step in steps[:2]] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    for step in steps:
        assert set(step) <= {"name", "uses", "with", "run"}, step
        assert ("uses" in step) != ("run" in step), step


def test_its_commands_are_ones_the_project_installs() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    runs = [step["run"] for step in load()["jobs"]["replay"]["steps"] if "run" in step]  # type: ignore[index]
    commands = {run.split()[0] for run in runs}
    assert commands <= {"pip", "pytest", *scripts}, commands
    assert any(run.startswith("llm-playback verify") for run in runs)
    assert (REPO / runs[-1].split()[-1]).is_dir(), "the replayed folder exists"


def test_the_docs_show_the_same_steps() -> None:
    docs = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    assert ".github/workflows/replay.yml" in docs
    for step in load()["jobs"]["replay"]["steps"]:  # type: ignore[index]
        if "uses" in step:
            assert step["uses"] in docs
    assert "llm-playback verify" in docs and "LLM_PLAYBACK_MODE: replay" in docs
