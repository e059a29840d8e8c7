"""Section 3: scale. The time to replay an exchange of one test with 10 recordings in the
folder and with 5,000 spread over 500 tests (a lookup opens one file by name in the test's
folder, so it should not grow), what a miss costs in each (the miss explains itself by reading
the endpoint's recordings of the test and the shared ones), and the pytest start-up cost of
having the plugin installed."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.clients import replay_client, stream_chunks
from benchmarks.exchanges import BASE_URL, Exchange, small_stream, write_recordings
from benchmarks.report import Row, Where, difference_row, info_row, ratio_row
from benchmarks.timing import TOTAL, Timed, Variant, interleaved, scaled
from replay.core.http_flavours import Flavour
from replay.errors import ReplayMiss
from replay.store.directory import DirectoryStore

SECTION = "3 scale"
SMALL, LARGE = 10, 5000
TESTS = LARGE // SMALL  # the large folder: 500 tests of 10 recordings each
PASSES = 5  # each sample replays the 10 shared exchanges this many times, a fresh test each
GROWTH_LIMIT = 1.10
STARTUP_LIMIT_MS = 50.0
SUITE_TESTS = 5
CHILD_CPU = "child_cpu"
IMPORT = "import"
SUITE = """
import pytest


@pytest.mark.parametrize("number", range({tests}))
def test_arithmetic(number):
    assert number + 1 > number
"""


def run(flavour: Flavour, workdir: Path, repeats: int) -> list[Row]:
    """Build the two folders, then time replay, misses and pytest start-up."""
    shared = [small_stream(number) for number in range(0, LARGE, TESTS)]  # all of test 0
    small = write_recordings(workdir / "small", shared, [_test(0)] * SMALL)
    started = time.perf_counter()
    large = write_recordings(
        workdir / "large",
        [small_stream(n) for n in range(LARGE)],
        [_test(n % TESTS) for n in range(LARGE)],
    )
    generated = time.perf_counter() - started
    assert _count(small) == SMALL and _count(large) == LARGE, "the folders are not as planned"

    replays: dict[str, Variant] = {
        "small": lambda: _replaying(small, flavour, shared),
        "large": lambda: _replaying(large, flavour, shared),
    }
    figures = interleaved(replays, repeats)
    per_exchange = {name: scaled(figures[name], 1 / (PASSES * SMALL)) for name in figures}
    growth = ratio_row(
        Where(SECTION, flavour, f"per exchange, {LARGE:,} recordings of {TESTS} tests"),
        per_exchange["large"],
        f"{SMALL} recordings",
        per_exchange["small"],
        GROWTH_LIMIT,
    )
    growth.extra["generating_seconds"] = generated

    unknown = small_stream(LARGE + 1)
    misses: dict[str, Variant] = {
        "small": lambda: _missing(small, flavour, unknown),
        "large": lambda: _missing(large, flavour, unknown),
    }
    missed = interleaved(misses, repeats)
    rows = [
        growth,
        info_row(
            Where(SECTION, flavour, f"one miss (ReplayMiss), {SMALL} recordings in the folder"),
            missed["small"][TOTAL],
        ),
        info_row(
            Where(SECTION, flavour, f"one miss (ReplayMiss), {LARGE:,} recordings in the folder"),
            missed["large"][TOTAL],
            note="the message reads every recording of the endpoint to name the nearest",
        ),
    ]
    return rows + _startup(flavour, workdir / "suite", repeats)


def _test(number: int) -> str:
    return f"tests/test_scale.py::test_{number}"


def _count(store: DirectoryStore) -> int:
    return sum(1 for _ in store.root.rglob("*.json"))


def _replaying(store: DirectoryStore, flavour: Flavour, exchanges: list[Exchange]) -> Timed:
    clients = [replay_client(store, flavour, BASE_URL, test=_test(0)) for _ in range(PASSES)]

    def timed() -> None:
        for client in clients:
            for exchange in exchanges:
                count = stream_chunks(client, exchange)
                assert count == exchange.chunks_expected, (count, exchange.chunks_expected)

    return timed


def _missing(store: DirectoryStore, flavour: Flavour, exchange: Exchange) -> Timed:
    client: Any = replay_client(store, flavour, BASE_URL, test=_test(0))

    def timed() -> None:
        try:
            stream_chunks(client, exchange)
        except ReplayMiss as error:
            assert "nearest recording" in str(error), str(error)
        else:
            raise AssertionError("the unknown request was replayed")

    return timed


def _startup(flavour: Flavour, suite: Path, repeats: int) -> list[Row]:
    """Wall time of ``python -m pytest -q <suite>`` with the plugin and with
    ``-p no:llm_replay``, interleaved; the plugin's cost is the difference of the medians.

    Every other installed plugin loads as well (hypothesis alone takes a second here), so
    the same is measured with plugin autoloading off, ``-p replay.plugin.hooks`` against nothing:
    the plugin's own cost without their noise. Bytecode is cached (in a private
    ``PYTHONPYCACHEPREFIX``, nothing is written next to the sources), as on a developer's
    machine; a last pair shows the cost when it is not (``PYTHONDONTWRITEBYTECODE=1``, as
    in the environment these benchmarks were first run in), where every start compiles
    ``replay`` from source."""
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (suite / "test_small.py").write_text(SUITE.format(tests=SUITE_TESTS), encoding="utf-8")
    cached = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LLM_REPLAY", "PYTEST", "PYTHONDONTWRITEBYTECODE"))
    }
    cached["PYTHONPYCACHEPREFIX"] = str(suite / "pycache")
    alone = cached | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    compiling = {k: v for k, v in alone.items() if k != "PYTHONPYCACHEPREFIX"}
    compiling["PYTHONDONTWRITEBYTECODE"] = "1"

    def pytest_run(extra: list[str], env: dict[str, str]) -> Variant:
        command = [sys.executable, "-m", "pytest", "-q", *extra, str(suite)]

        def timed() -> dict[str, float]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert done.returncode == 0 and f"{SUITE_TESTS} passed" in done.stdout, (
                done.stdout + done.stderr
            )
            return {CHILD_CPU: after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}

        return lambda: timed

    figures = interleaved(
        {
            "plugin": pytest_run([], cached),
            "no plugin": pytest_run(["-p", "no:llm_replay"], cached),
            "alone": pytest_run(["-p", "replay.plugin.hooks"], alone),
            "none": pytest_run([], alone),
            "alone, compiling": pytest_run(["-p", "replay.plugin.hooks"], compiling),
            "none, compiling": pytest_run([], compiling),
        },
        2 * repeats,  # a difference of ~30 ms between runs of ~1 s that vary by ±300 ms
        warmups=2,
    )
    rows = []
    for measure, ours, reference_name, reference in (
        ("all plugins installed", "plugin", "-p no:llm_replay", "no plugin"),
        ("no other plugins", "alone", "no plugin", "none"),
        ("no other plugins, no bytecode cache", "alone, compiling", "no plugin", "none, compiling"),
    ):
        rows.append(
            difference_row(
                Where(SECTION, flavour, f"pytest start-up, {SUITE_TESTS} tests, {measure}"),
                figures[ours],
                reference_name,
                figures[reference],
                STARTUP_LIMIT_MS,
                cpu_key=CHILD_CPU,
            )
        )
    rows[-1].target, rows[-1].verdict = "(as this machine runs)", "info"
    rows.append(_import_cost(flavour, cached, repeats))
    return rows


def _import_cost(flavour: Flavour, env: dict[str, str], repeats: int) -> Row:
    """The plugin module's import, as ``python -X importtime`` reports it after pytest is
    imported (bytecode cached): the part of the start-up cost that is the plugin's alone,
    free of the noise of starting a process."""
    command = [sys.executable, "-X", "importtime", "-c", "import pytest, replay.plugin.hooks"]

    def timed() -> dict[str, float]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
        names = [line.split("|")[2] for line in lines]
        assert " pytest" in names and " replay.plugin.hooks" in names, done.stderr[-2000:]
        after_pytest = lines[names.index(" pytest") + 1 :]
        # Top-level imports (no indent) after pytest's: ``replay``, then what replay.plugin.hooks
        # imports that replay did not, then ``replay.plugin.hooks``.
        return {
            IMPORT: sum(
                int(line.split("|")[1]) / 1e6
                for line in after_pytest
                if not line.split("|")[2].startswith("  ")
            )
        }

    figures = interleaved({"import": lambda: timed}, repeats)
    return info_row(
        Where(
            SECTION, flavour, "import replay.plugin.hooks after pytest (-X importtime, cumulative)"
        ),
        figures["import"][IMPORT],
        note="what the plugin adds to every pytest start, measured inside the process",
    )
