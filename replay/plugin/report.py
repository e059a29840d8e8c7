"""What the plugin tells at the end: failures by their message alone, each test's outcome, the
usage of the recordings kept in pytest's cache, and the session's terminal summary."""

from __future__ import annotations

import warnings
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replay.core.stats import Stats
from replay.errors import LLMReplayError

if TYPE_CHECKING:
    pass
from replay.core.product import RECORD_HINT
from replay.plugin.state import DESELECTED, LAST_RUN, OUTCOMES, PLAYER, SEED, SETTINGS, STATS

UNUSED_SHOWN = 20


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report the library's errors (a miss, a bad recording, a secret) by their message alone:
    the traceback through httpx and openai says nothing the message does not."""
    report = yield
    excinfo = call.excinfo
    if not report.failed or excinfo is None:
        return report
    from replay.core.secret_scan import mask_secrets  # messages reach CI logs: no key in them

    patterns = item.config.stash[SETTINGS].redaction.compiled
    if isinstance(excinfo.value, LLMReplayError):
        report.longrepr = mask_secrets(f"{type(excinfo.value).__name__}: {excinfo.value}", patterns)
    elif call.when == "call" and (player := item.stash.get(PLAYER, None)) is not None:
        # Replay does not validate; once a test failed, say if a recording it used was bad.
        bad = player.invalid_recording()
        if bad is not None:
            failure = f"{bad}\nThe test then failed with {excinfo.exconly()}"
            report.longrepr = mask_secrets(failure, patterns)
    return report


class Outcomes:
    """Notes each test's outcome (a test that failed or was skipped keeps its recordings).
    A plugin object of its own: ``pytest_runtest_logreport`` is not handed the config."""

    def __init__(self, outcomes: dict[str, str]) -> None:
        self.outcomes = outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        noted = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and noted != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and noted is None:
            self.outcomes[report.nodeid] = "passed"


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[DESELECTED][0] += len(items)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist controller: add up what each worker saw."""
    stats = getattr(node, "workeroutput", {}).get("llm_replay_stats")
    if stats is not None:
        node.config.stash[STATS].merge(stats)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    stats = config.stash[STATS]
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["llm_replay_stats"] = stats.as_dict()
        return
    folder = config.stash[SETTINGS].recordings_dir
    if not _is_dir(folder) or not (stats.missed or stats.tests):
        return
    from replay.store.usage import CACHE_KEY, Usage

    used_by = {
        test: [_relative(path, folder) for path in paths]
        for test, paths in stats.tests.items()
        if test
    }
    shared_used = frozenset(_relative(path, folder) for path in stats.tests.get("", []))
    usage = Usage(
        _whole_suite_ran(session, exitstatus),
        config.stash[OUTCOMES].copy(),
        used_by,
        shared_used,
        recordings=str(folder.resolve()),
    )
    config.stash[LAST_RUN] = (usage, _keep(config, CACHE_KEY, usage.to_json()))


def _keep(config: pytest.Config, key: str, document: dict[str, Any]) -> str | None:
    """Put ``document`` in pytest's cache; why not, if it could not be (a read-only checkout,
    ``-p no:cacheprovider``): that must never fail the run."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return "pytest's cache is off (-p no:cacheprovider)"
    with warnings.catch_warnings():
        warnings.simplefilter("error", pytest.PytestCacheWarning)
        try:
            cache.set(key, document)
        except Exception as error:  # OSError, the cache's warning, whatever: never fail
            return f"it could not be written ({error})"
    return None


def _is_dir(folder: Path) -> bool:
    """Whether ``folder`` is a folder; False when even asking fails (a name too long)."""
    try:
        return folder.is_dir()
    except OSError:
        return False


def _whole_suite_ran(session: pytest.Session, exitstatus: int) -> bool:
    """No selection, no deselection, no subset of files, not stopped early."""
    config = session.config
    return (
        config.args_source != pytest.Config.ArgsSource.ARGS
        and not config.option.keyword
        and not config.option.markexpr
        and config.stash[DESELECTED][0] == 0
        and not session.shouldstop
        and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    )


def _relative(path: str, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path


def _shaping_lines(stats: Stats, seed: int) -> list[str]:
    """The faults injected (each with its test and request), and the seed of random chunking."""
    lines = []
    if stats.faults:
        lines.append(f"{len(stats.faults)} faults injected:")
        counts: dict[str, int] = {}
        for note in stats.faults:
            counts[note] = counts.get(note, 0) + 1
        lines += [f"  {count} x {note}" for note, count in counts.items()]
    if stats.random_chunked:
        lines.append(
            f"random chunking in {stats.random_chunked} tests with seed {seed}; cut the same "
            f"way again with: pytest --llm-seed {seed}"
        )
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    if hasattr(config, "workeroutput"):
        return
    stats = config.stash.get(STATS, None)
    if stats is None:
        return
    lines = _report(config, stats)
    if lines:
        terminalreporter.section("pytest-llm-playback")
        for line in lines:
            terminalreporter.write_line(line)


def _report(config: pytest.Config, stats: Stats) -> list[str]:
    """The lines of the session report; none when there is nothing to say."""
    from replay.core.secret_scan import mask_secrets  # the report may reach a CI log: no key in it

    lines = []
    if stats.replayed or stats.recorded or stats.missed or stats.live:
        live = f", {stats.live} live (not recorded)" if stats.live else ""
        lines.append(
            f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed{live}"
        )
    if stats.missed:
        lines.append(f"Record the missing exchanges with: {RECORD_HINT}")
    if stats.unchanged:
        lines.append(
            f"{stats.unchanged} re-recorded with the same answer: their files were kept as "
            "they were"
        )
    lines += [mask_secrets(f"not of its openai type: {note}") for note in stats.untyped]
    usage, not_kept = config.stash.get(LAST_RUN, (None, None))
    if not_kept is not None:
        lines.append(
            f"the usage of this run was not kept in pytest's cache: {not_kept}; "
            "llm-playback prune and migrate need it"
        )
    lines += _shaping_lines(stats, config.stash[SEED])
    settings = config.stash[SETTINGS]
    if stats.requested_models and (stats.recorded or stats.live) and not settings.server_url:
        from replay.engines.llama_cpp_python import served_model

        names = ", ".join(sorted(stats.requested_models))
        lines.append(
            f"The auto-started llama.cpp server ran {served_model(settings.model_path)} and "
            f"answered every request with it, whatever model it named ({names}); the "
            "recordings say so in recorded.server_model."
        )
    if usage is None:
        return lines
    from replay.store.usage import all_recordings

    folder = config.stash[SETTINGS].recordings_dir
    unused = usage.unused([p.relative_to(folder).as_posix() for p in all_recordings(folder)])
    if unused:
        noun = "recording" if len(unused) == 1 else "recordings"
        lines.append(f"{len(unused)} {noun} no test used:")
        lines += [f"  {name}" for name in unused[:UNUSED_SHOWN]]
        if len(unused) > UNUSED_SHOWN:
            lines.append(f"  ... and {len(unused) - UNUSED_SHOWN} more")
        lines.append(f"Delete them with: llm-playback --dir {folder} prune --yes")
    return lines
