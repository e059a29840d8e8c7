"""The session report: counts, unused recordings per test after a whole run (also under
xdist), the usage kept in pytest's cache (and a run that cannot keep it still passes), and
request fields left out of the hash."""

from __future__ import annotations

import dataclasses
import json

import pytest

from replay.store.directory import DirectoryStore
from replay.store.usage import CACHE_FILE, Usage
from tests.conftest import SEED_TEST
from tests.seedfiles import curl_seed

# The chat seed's test (it asserts the replayed text), and a test that uses no recording.
CHAT_TEST = (
    SEED_TEST
    + """
def test_other():
    pass
"""
)


@pytest.fixture
def recordings(pytester: pytest.Pytester) -> DirectoryStore:
    """The chat seed (used by CHAT_TEST) and the completion seed (used by nothing)."""
    store = DirectoryStore(pytester.path / "recordings")
    store.put(curl_seed("001_1cfb8fc5d5cf4d6d.txt").record(), 0)
    store.put(curl_seed("000_a30d2370a65b8133.txt").record(), 0)
    pytester.makepyfile(test_chat=CHAT_TEST)
    return store


def test_a_whole_run_lists_the_unused_recordings(
    pytester: pytest.Pytester, recordings: DirectoryStore
) -> None:
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*1 replayed, 0 recorded, 0 missed*",
            "1 recording no test used:",
            "  _shared/completions-*.json",
            "Delete them with: llm-playback --dir * prune --yes",
        ]
    )
    usage = Usage.read(pytester.path / ".pytest_cache")
    assert usage is not None and usage.complete
    [used] = usage.used
    assert used.startswith("_shared/chat_completions-")
    assert usage.outcomes == {
        "test_chat.py::test_chat": "passed",
        "test_chat.py::test_other": "passed",
    }
    assert not list(recordings.root.rglob(".*"))  # nothing of the run in the recordings folder


@pytest.mark.parametrize(
    "args", [("-k", "chat"), ("test_chat.py",), ("--deselect", "test_chat.py::test_other")]
)
def test_a_partial_run_lists_nothing_unused(
    pytester: pytest.Pytester, recordings: DirectoryStore, args: tuple[str, ...]
) -> None:
    result = pytester.runpytest_subprocess(*args)
    result.stdout.fnmatch_lines(["*1 replayed, 0 recorded, 0 missed*"])
    assert "no test used" not in result.stdout.str()
    usage = Usage.read(pytester.path / ".pytest_cache")
    assert usage is not None and not usage.complete


def test_the_report_adds_up_xdist_workers(
    pytester: pytest.Pytester, recordings: DirectoryStore
) -> None:
    pytester.makepyfile(
        test_more="\n".join(
            CHAT_TEST.replace("def test_chat", f"def test_chat_{n}").replace(
                "def test_other", f"def test_other_{n}"
            )
            for n in range(4)
        )
    )
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*5 replayed, 0 recorded, 0 missed*", "1 recording no test used:"])
    text = (pytester.path / ".pytest_cache" / CACHE_FILE).read_text(encoding="utf-8")
    usage = Usage.from_json(json.loads(text))
    assert usage is not None and usage.complete and len(usage.used) == 1
    assert len(usage.used_by) == 5 and len(usage.outcomes) == 10


OWNED_TEST = """
def test_passes_without_asking(llm_replay):
    pass

def test_fails_before_asking(llm_replay):
    assert False, "broken before its request"

def test_skipped(llm_replay):
    import pytest
    pytest.skip("not today")
"""


def test_a_failed_or_skipped_tests_recordings_are_never_unused(
    pytester: pytest.Pytester, recordings: DirectoryStore
) -> None:
    """Each test owns a recording it did not ask for this run: only the one that passed has
    left its recording unused."""
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt").record()
    for name in ("test_passes_without_asking", "test_fails_before_asking", "test_skipped"):
        recordings.put(dataclasses.replace(seed, test=f"test_owned.py::{name}"), 0)
    pytester.makepyfile(test_owned=OWNED_TEST)
    result = pytester.runpytest_subprocess("test_owned.py")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["1 recording no test used:", "  test_owned/test_passes_without_asking/chat_*.json"]
    )
    assert "test_fails_before_asking/" not in result.stdout.str().split("no test used")[1]
    assert "test_skipped/" not in result.stdout.str().split("no test used")[1]


def test_a_run_that_cannot_keep_its_usage_still_passes(
    pytester: pytest.Pytester, recordings: DirectoryStore
) -> None:
    """A read-only checkout: pytest's cache cannot be written (here a file stands where its
    folder would be). The run passes and the report says the usage was not kept."""
    pytester.makeini("[pytest]\ncache_dir = blocked/cache\n")
    (pytester.path / "blocked").write_text("a file, not a folder", encoding="utf-8")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*the usage of this run was not kept in pytest's cache*"])


def test_nothing_to_say_prints_no_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert "pytest-llm-playback ==" not in result.stdout.str()


IGNORE_TEST = """
import pytest

def ask(llm_replay, user):
    client = llm_replay.openai()
    stream = client.chat.completions.create(
        model="llama3.2:1b", messages=[{"role": "user", "content": "tell me a joke"}],
        stream=True, stream_options={"include_usage": True}, user=user)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

@pytest.mark.llm_replay(ignore_fields=["user"])
def test_marker(llm_replay):
    assert ask(llm_replay, "trace-123") == ask(llm_replay, "trace-456")

def test_without(llm_replay):
    ask(llm_replay, "trace-789")
"""


def test_ignored_fields_leave_the_hash(pytester: pytest.Pytester) -> None:
    """A recording made with ``user`` ignored replays for any ``user``, by marker or ini."""
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt")
    seed.body["user"] = "recorded-user"
    recording = dataclasses.replace(seed.record(), ignored=("user",), hashed=None)
    store = DirectoryStore(pytester.path / "recordings")
    store.put(recording, 0)
    store.put(recording, 1)
    saved = json.loads(next(store.root.rglob("*.json")).read_text(encoding="utf-8"))
    assert saved["request"]["ignore_fields"] == ["user"]
    assert saved["request"]["body"]["user"] == "recorded-user"
    pytester.makepyfile(test_ignore=IGNORE_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_without*", "*~ body.user: 'recorded-user' -> 'trace-789'*"])
    pytester.makeini("[pytest]\nllm_replay_ignore_fields = user\n")
    pytester.runpytest().assert_outcomes(passed=2)
