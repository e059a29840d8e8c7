"""The pytest plugin (entry point ``llm_replay``): every hook and fixture pytest loads, each from
the module of this package that owns it, and the session's configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from replay.core.stats import Stats
from replay.plugin.settings import Settings

if TYPE_CHECKING:
    pass
from replay.plugin.fixtures import (
    _llm_replay_marker,
    _llm_replay_server,
    llm_replay,
    llm_replay_shared,
)
from replay.plugin.options import MARKER_OPTIONS, pytest_addoption
from replay.plugin.report import (
    Outcomes,
    pytest_deselected,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)
from replay.plugin.state import DESELECTED, OUTCOMES, SEED, SETTINGS, STATS


def pytest_configure(config: pytest.Config) -> None:
    options = "; ".join(f"{name}: {help}" for name, help in MARKER_OPTIONS.items())
    config.addinivalue_line(
        "markers", f"llm_replay(**options): pytest-llm-playback settings ({options})"
    )
    config.stash[SETTINGS] = Settings.from_config(config)
    config.stash[STATS] = Stats()
    config.stash[DESELECTED] = [0]
    config.stash[OUTCOMES] = {}
    config.pluginmanager.register(Outcomes(config.stash[OUTCOMES]), "llm-playback-outcomes")
    config.stash[SEED] = _session_seed(config)


def _session_seed(config: pytest.Config) -> int:
    """The random-chunking seed: --llm-seed, the xdist controller's, or a new one."""
    given: int | None = config.getoption("llm_replay_seed")
    if given is not None:
        return given
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "llm_replay_seed" in workerinput:
        return int(workerinput["llm_replay_seed"])
    import random

    return random.SystemRandom().randrange(10**9)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: every worker cuts with the session's seed."""
    node.workerinput["llm_replay_seed"] = node.config.stash[SEED]


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    line = f"pytest-llm-playback: mode={settings.mode}, recordings={settings.recordings_dir}"
    return [line, *(f"pytest-llm-playback: note: {note}" for note in settings.notes)]


__all__ = [
    "_llm_replay_marker",
    "_llm_replay_server",
    "llm_replay",
    "llm_replay_shared",
    "pytest_addoption",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_deselected",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
]
