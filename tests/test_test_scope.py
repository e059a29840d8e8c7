"""Each test replays what it recorded: two tests that send the same first request keep their
own answers (against the real llama.cpp server, sampling at temperature 1.5), re-recording one
test leaves the other's files alone, and a version-1 folder replays as it is and migrates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from replay.cli.command_line import main
from replay.core.recording import loads
from replay.engines.llama_cpp_python import LlamaServer
from tests.conftest import BLOCK_NETWORK, recording_files

REPO = Path(__file__).resolve().parents[1]
V1_RECORDINGS = Path(__file__).parent / "data" / "v1-recordings"

# The example, as a new user would write it: a sampling temperature, and a second
# test whose request is the first turn of the first test.
TWO_TESTS = """
Q = [{"role": "user", "content": "Name a color."}]


def ask(c, m):
    return c.chat.completions.create(
        model="smollm2", messages=m, temperature=1.5, max_tokens=8
    ).choices[0].message.content


def test_a_two_turns(llm_replay):
    c = llm_replay.openai()
    first = ask(c, Q)
    ask(c, Q + [{"role": "assistant", "content": first}, {"role": "user", "content": "Another?"}])


def test_b_same_first_turn(llm_replay):
    ask(llm_replay.openai(), Q)
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in recording_files(folder)
    }


def test_two_tests_sharing_a_first_request_each_replay_their_own(
    pytester: pytest.Pytester, llama_server: LlamaServer
) -> None:
    pytester.makepyfile(test_colors=TWO_TESTS, blocknet=BLOCK_NETWORK)
    recordings = pytester.path / "recordings"
    record = ("--record", "--llm-server-url", llama_server.base_url)
    for _ in range(3):  # on a sampling server the answers differ from round to round
        recorded = pytester.runpytest_subprocess(*record)
        recorded.assert_outcomes(passed=2)
        recorded.stdout.fnmatch_lines(["*0 replayed, 3 recorded, 0 missed*"])
        replayed = pytester.runpytest_subprocess("-p", "blocknet")
        replayed.assert_outcomes(passed=2)
        replayed.stdout.fnmatch_lines(["*3 replayed, 0 recorded, 0 missed*"])

    # Each round's new answers made new requests for test_a's second turn: the older ones are
    # reported unused (their test passed without them), and prune removes them.
    stale = len(snapshot(recordings)) - 3
    if stale:
        replayed.stdout.fnmatch_lines([f"{stale} recordings no test used:"])
    cache = ["--dir", str(recordings), "prune", "--yes", "--cache-dir"]
    assert main([*cache, str(pytester.path / ".pytest_cache")]) == 0
    files = snapshot(recordings)
    owners = {name: loads(data).test for name, data in files.items()}
    assert sorted(owners.values()) == [
        "test_colors.py::test_a_two_turns",
        "test_colors.py::test_a_two_turns",
        "test_colors.py::test_b_same_first_turn",
    ]
    assert all(
        name.startswith("test_colors/" + test.split("::")[1] + "/")
        for name, test in owners.items()
        if test
    )

    rerecorded = pytester.runpytest_subprocess(*record, "-k", "test_b")
    rerecorded.assert_outcomes(passed=1)
    after = snapshot(recordings)
    of_a = [name for name, test in owners.items() if test == "test_colors.py::test_a_two_turns"]
    assert {name: after[name] for name in of_a} == {name: files[name] for name in of_a}
    assert sorted(after) == sorted(files)
    replayed = pytester.runpytest_subprocess("-p", "blocknet")
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*3 replayed, 0 recorded, 0 missed*"])


def run_examples(pytester: pytest.Pytester, recordings: Path, cache: Path) -> pytest.RunResult:
    """The examples that version 1 recorded (the chat, completion, embedding and model
    ones), in replay mode on ``recordings``, with no network."""
    return pytester.runpytest_subprocess(
        str(REPO / "examples" / "test_examples.py"),
        str(REPO / "examples" / "test_app.py"),
        "--rootdir",
        str(REPO),
        "-p",
        "blocknet",
        "-o",
        f"cache_dir={cache}",
        "--record-mode",
        "replay",
        "--llm-recordings-dir",
        str(recordings),
    )


def test_a_version_1_folder_replays_as_it_is_and_migrates_into_the_layout_by_test(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example recordings as version 1 wrote them (made by the real server): replayed
    unchanged, then moved by ``llm-playback migrate`` to the tests that used them, and replayed
    again."""
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    recordings, cache = pytester.path / "recordings", pytester.path / "cache"
    shutil.copytree(V1_RECORDINGS, recordings)
    before = snapshot(recordings)
    assert all(loads(data).test is None for data in before.values())

    result = run_examples(pytester, recordings, cache)
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*8 replayed, 0 recorded, 0 missed*"])
    assert snapshot(recordings) == before  # read as shared, written nothing

    assert main(["--dir", str(recordings), "migrate", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"migrated 8 version-1 recordings in {recordings}")
    after = snapshot(recordings)
    assert len(after) == 8
    for name, data in after.items():
        recording = loads(data)
        assert recording.test is not None and recording.test.startswith("examples/test_"), name
        assert f"-> {name}  ({recording.test})" in out
        assert name.startswith(recording.test.split(".py::")[0] + "/")

    assert main(["--dir", str(recordings), "verify"]) == 0
    assert main(["--dir", str(recordings), "ls"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert all("(shared)" not in line for line in listed)
    for name, data in after.items():
        assert any(line.startswith(name) and loads(data).test in line for line in listed)

    result = run_examples(pytester, recordings, cache)
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*8 replayed, 0 recorded, 0 missed*"])
    assert snapshot(recordings) == after


def test_migrate_keeps_shared_what_no_test_used(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a run of the suite there is nothing to place a file by: migrate refuses; after
    a complete run that used none of them, every file goes to the shared scope."""
    pytester.makepyfile(blocknet=BLOCK_NETWORK, test_nothing="def test_x(llm_replay):\n    pass\n")
    recordings, cache = pytester.path / "recordings", pytester.path / ".pytest_cache"
    shutil.copytree(V1_RECORDINGS, recordings)
    assert main(["--dir", str(recordings), "migrate"]) == 1
    assert "run the suite first" in capsys.readouterr().err
    pytester.runpytest_subprocess("-p", "blocknet").assert_outcomes(passed=1)
    assert main(["--dir", str(recordings), "migrate", "--cache-dir", str(cache)]) == 0
    assert all(name.startswith("_shared/") for name in snapshot(recordings))
    assert "shared: no test of the last run used it" in capsys.readouterr().out
