"""Recording on the auto-started llama.cpp server, as a newcomer's first ``pytest --record``:
the run says when the server starts and how long it took (without ``-s``), the recordings
name the model the server really ran (llama.cpp echoes back whatever name a request asks
for), and the session says once which model answered which requested names."""

from __future__ import annotations

import json

import pytest

from replay.engines.llama_cpp_python import DEFAULT_MODEL_FILE
from tests.conftest import recording_files

pytestmark = pytest.mark.real_server

TESTS = """
import pytest

@pytest.mark.parametrize("model", ["gpt-4o-mini", "smollm2"])
def test_ask(llm_replay, model):
    reply = llm_replay.openai().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hi"}],
        temperature=0, max_tokens=4)
    assert reply.choices[0].message.content is not None
"""


def test_recording_names_the_model_that_answered(
    pytester: pytest.Pytester, real_server_available: None
) -> None:
    pytester.makepyfile(test_models=TESTS)
    result = pytester.runpytest_subprocess("--record", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.re_match_lines(
        [
            r"pytest-llm-playback: starting llama.cpp \(SmolLM2-135M-Instruct.Q4_1\) on "
            r"127\.0\.0\.1:\d+ \.\.\. ready in \d+\.\d s",
        ]
    )
    out = result.stdout.str()
    assert out.count("starting llama.cpp") == 1
    assert out.count(f"server ran {DEFAULT_MODEL_FILE}") == 1
    result.stdout.fnmatch_lines(["*whatever model it named (gpt-4o-mini, smollm2)*"])
    files = recording_files(pytester.path / "recordings")
    assert len(files) == 2
    for path in files:
        recorded = json.loads(path.read_text(encoding="utf-8"))["recorded"]
        assert recorded["server_model"] == DEFAULT_MODEL_FILE, path
