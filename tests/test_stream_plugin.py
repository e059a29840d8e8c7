"""Shaping through the plugin: the marker's pace/chunking/faults, the options and ini settings,
the report's fault counts and random seed, and the errors for bad input. Replays the
recordings in recordings/ (which a real server made) with every socket connect failing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import BLOCK_NETWORK

REPO = Path(__file__).resolve().parents[1]

JOKE = """
JOKE = dict(model="smollm2", messages=[{"role": "user", "content": "Tell me a joke"}],
            stream=True, temperature=0, max_tokens=32)

def joke(client):
    stream = client.chat.completions.create(**JOKE)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""

RETRYING_APP = (
    JOKE
    + """
import openai
import pytest

ATTEMPTS = []

def count(request):
    ATTEMPTS.append(request.url)

@pytest.mark.llm_replay(faults=[{"status": 429, "headers": {"retry-after": "0"}, "times": 2}])
def test_the_app_retries_rate_limits():
    # The application's own client, with openai's built-in retries (2 by default).
    client = openai.OpenAI(http_client=openai.DefaultHttpxClient(event_hooks={"request": [count]}))
    assert joke(client).startswith("What's a joke")
    assert len(ATTEMPTS) == 3
"""
)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    if not (pytester.path / "recordings").exists():
        shutil.copytree(
            REPO / "tests" / "data" / "v1-recordings", pytester.path / "recordings"
        )  # shared: any test replays them
    return pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider", *args)


def test_an_app_with_built_in_retries_gets_two_429s_then_the_recording(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_app=RETRYING_APP)
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 replayed, 0 recorded, 0 missed*",
            "2 faults injected:",
            "  2 x test_app.py::test_the_app_retries_rate_limits: HTTP 429, retry-after: 0 "
            "on POST /v1/chat/completions",
        ]
    )


def test_without_enough_retries_the_429_reaches_the_app(pytester: pytest.Pytester) -> None:
    """The control: the faults are really answered."""
    pytester.makepyfile(
        test_app=RETRYING_APP.replace("openai.OpenAI(", "openai.OpenAI(max_retries=1, ")
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RateLimitError*429*", "2 faults injected:"])


CHUNK_SIZES = (
    JOKE
    + """
import json, os

def test_sizes(llm_replay):
    client = llm_replay.http_client()
    request = client.build_request("POST", llm_replay.base_url + "/chat/completions", json=JOKE)
    response = client.send(request, stream=True)
    sizes = [len(chunk) for chunk in response.iter_raw()]
    response.close()
    with open(os.environ["SIZES_FILE"], "w") as out:
        json.dump(sizes, out)
"""
)


def sizes_with(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[list[int], str]:
    out = pytester.path / "sizes.json"
    monkeypatch.setenv("SIZES_FILE", str(out))
    result = run(pytester, *args)
    result.assert_outcomes(passed=1)
    return __import__("json").loads(out.read_text()), result.stdout.str()


def test_random_chunking_reports_its_seed_and_the_seed_cuts_the_same_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_sizes=CHUNK_SIZES)
    first, output = sizes_with(pytester, monkeypatch, "--llm-chunking", "random")
    found = re.search(r"random chunking in 1 tests with seed (\d+); .*pytest --llm-seed \1", output)
    assert found is not None, output
    again, _ = sizes_with(pytester, monkeypatch, "--llm-chunking", "random", "--llm-seed", found[1])
    other, _ = sizes_with(
        pytester, monkeypatch, "--llm-chunking", "random", "--llm-seed", str(int(found[1]) + 1)
    )
    events, _ = sizes_with(pytester, monkeypatch)
    assert again == first and other != first
    assert sum(first) == sum(events) and len(first) != len(events)


def test_the_marker_wins_over_the_ini_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nllm_replay_chunking = bytes:1\n")
    pytester.makepyfile(test_sizes=CHUNK_SIZES)
    by_ini, _ = sizes_with(pytester, monkeypatch)
    assert set(by_ini) == {1}
    pytester.makepyfile(
        test_sizes=CHUNK_SIZES.replace(
            "def test_sizes",
            "import pytest\n@pytest.mark.llm_replay(chunking='merged')\ndef test_sizes",
        )
    )
    by_marker, _ = sizes_with(pytester, monkeypatch)
    assert len(by_marker) == 1 and by_marker[0] == sum(by_ini)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("chunking='bytes:0'", "chunking 'bytes:0' is not a chunking mode; use \"event\""),
        ("pace=-1", "pace -1 is not a number >= 0"),
        ("faults=[{'status': 200}]", "FailWith: status 200 is not an HTTP error status (400-599)"),
        ("faults={'cut_after': 3}", "faults takes a list of faults"),
    ],
)
def test_a_bad_marker_option_fails_the_test_with_what_is_wrong(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        test_bad=f"import pytest\n\n@pytest.mark.llm_replay({marker})\ndef test_x():\n    pass\n"
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*pytest-llm-playback: *{message}*(in @pytest.mark.llm_replay of test_bad.py::test_x)*"]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    "args", [("--llm-pace", "slow"), ("--llm-chunking", "lines"), ("-o", "llm_replay_pace=-2")]
)
def test_a_bad_option_or_ini_setting_is_a_usage_error(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest-llm-playback: *(from --llm-pace/--llm-chunking*"])


SIZES_PER_TEST = (
    JOKE
    + """
import json, os
import pytest

@pytest.mark.parametrize("copy", ["a", "b", "c", "d"])
def test_sizes(llm_replay, copy):
    client = llm_replay.http_client()
    request = client.build_request("POST", llm_replay.base_url + "/chat/completions", json=JOKE)
    response = client.send(request, stream=True)
    sizes = [len(chunk) for chunk in response.iter_raw()]
    response.close()
    with open(os.environ["SIZES_FILE"] + copy, "w") as out:
        json.dump(sizes, out)
"""
)


def test_xdist_workers_cut_with_the_reported_seed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed the controller reports is the one every worker used: a run without xdist
    given that seed cuts every test the same way."""
    pytester.makepyfile(test_sizes=SIZES_PER_TEST)
    out = pytester.path / "sizes-"
    monkeypatch.setenv("SIZES_FILE", str(out))
    result = run(pytester, "-n", "2", "--llm-chunking", "random")
    result.assert_outcomes(passed=4)
    found = re.search(r"random chunking in 4 tests with seed (\d+);", result.stdout.str())
    assert found is not None, result.stdout.str()
    by_xdist = {copy: Path(f"{out}{copy}").read_text() for copy in "abcd"}
    assert len(set(by_xdist.values())) == 4, "each test is cut its own way"
    run(pytester, "-p", "no:xdist", "--llm-chunking", "random", "--llm-seed", found[1])
    assert {copy: Path(f"{out}{copy}").read_text() for copy in "abcd"} == by_xdist


ASYNC_APP = (
    JOKE
    + """
import asyncio
import pytest

@pytest.mark.llm_replay(
    pace=0.02, chunking="bytes:3",
    faults=[{"status": 529, "times": 1}, {"cut_after": 3, "times": 1}], allow_repeats=True,
)
def test_async_client(llm_replay):
    async def run():
        async with llm_replay.async_openai(max_retries=1) as client:
            received = 0
            with pytest.raises(Exception) as caught:
                async for _ in await client.chat.completions.create(**JOKE):
                    received += 1
            assert "incomplete chunked read" in repr(caught.value) + repr(caught.value.__cause__)
            assert received == 3  # the 529 was retried, then the stream was cut
            stream = await client.chat.completions.create(**JOKE)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()).startswith("What's a joke")
"""
)


def test_an_async_client_gets_the_faults_pace_and_chunking(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_async=ASYNC_APP)
    result = run(pytester, "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "2 faults injected:",
            "  1 x test_async.py::test_async_client: HTTP 529 on POST /v1/chat/completions",
            "  1 x test_async.py::test_async_client: stream cut after event 3 on POST*",
        ]
    )
