"""The session report: counts, unused recordings after a whole run (also under xdist), and
request fields left out of the hash."""

from __future__ import annotations

import json

import pytest

from replay.store import DirectoryStore
from replay.usage import USAGE_FILE, Usage
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
            "  completions/*.json",
            "Delete them with: llm-playback --dir * prune --yes",
        ]
    )
    usage = Usage.read(recordings.root)
    assert usage is not None and usage.complete
    [used] = usage.used
    assert used.startswith("chat_completions/")


@pytest.mark.parametrize(
    "args", [("-k", "chat"), ("test_chat.py",), ("--deselect", "test_chat.py::test_other")]
)
def test_a_partial_run_lists_nothing_unused(
    pytester: pytest.Pytester, recordings: DirectoryStore, args: tuple[str, ...]
) -> None:
    result = pytester.runpytest_subprocess(*args)
    result.stdout.fnmatch_lines(["*1 replayed, 0 recorded, 0 missed*"])
    assert "no test used" not in result.stdout.str()
    usage = Usage.read(recordings.root)
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
    usage = json.loads((recordings.root / USAGE_FILE).read_text(encoding="utf-8"))
    assert usage["complete"] is True and len(usage["used"]) == 1


def test_nothing_to_say_prints_no_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert "llm-replay ==" not in result.stdout.str()


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
    recording = seed.record()
    recording.ignored = ("user",)
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
