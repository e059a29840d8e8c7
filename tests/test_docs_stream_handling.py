"""The "Testing stream handling" page's examples run: its three test files replay offline from
the committed recordings, with the outcomes and report lines the page shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import BLOCK_NETWORK
from tests.test_docs import fenced_blocks

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "stream-handling.md"
TITLE = re.compile(r'title="(tests/test_stream_\w+\.py)"')


def examples() -> dict[str, str]:
    """The page's test files: path -> code."""
    found = {}
    for info, code in fenced_blocks(PAGE.read_text(encoding="utf-8")):
        title = TITLE.search(info)
        if title is not None:
            found[title[1]] = code
    return found


def test_the_page_has_an_example_for_pace_chunking_and_faults() -> None:
    assert sorted(examples()) == [
        "tests/test_stream_chunking.py",
        "tests/test_stream_faults.py",
        "tests/test_stream_pace.py",
    ]


def test_the_examples_replay_offline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.mkdir("tests")
    for path, code in examples().items():
        (pytester.path / path).write_text(code, encoding="utf-8")
    shutil.copytree(
        REPO / "tests" / "data" / "v1-recordings", pytester.path / "recordings"
    )  # shared: any test replays them
    result = pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "*8 replayed, 0 recorded, 0 missed*",
            "3 faults injected:",
            "  2 x tests/test_stream_faults.py::test_rate_limits_are_retried: HTTP 429, "
            "retry-after: 0 on POST /v1/chat/completions",
            "  1 x tests/test_stream_faults.py::"
            "test_a_dropped_stream_is_an_error_not_a_short_answer: "
            "stream cut after event 3 on POST /v1/chat/completions",
            "random chunking in 1 tests with seed *; cut the same way again with: "
            "pytest --llm-seed *",
        ]
    )


def test_the_report_the_page_shows_is_the_faults_examples_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    pytester.mkdir("tests")
    path = "tests/test_stream_faults.py"
    (pytester.path / path).write_text(examples()[path], encoding="utf-8")
    shutil.copytree(
        REPO / "tests" / "data" / "v1-recordings", pytester.path / "recordings"
    )  # shared: any test replays them
    result = pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    page = PAGE.read_text(encoding="utf-8")
    [shown] = [
        code for info, code in fenced_blocks(page) if info == "text" and "faults injected" in code
    ]
    for line in shown.splitlines()[1:]:
        assert line in result.stdout.lines, line
