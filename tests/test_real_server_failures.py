"""What the real llama.cpp server's failures record and replay as.

- The server dies mid-stream, the test stops reading, the client times out: nothing is
  written (a truncated stream is never saved as if complete), and the test sees the real error.
- HTTP errors (llama.cpp's 400 for a prompt longer than the context, a 404) are recorded and
  replay as the same openai exception with the same message.
- Recording under pytest-xdist (-n 4, overlapping and distinct requests) leaves complete,
  valid files that replay, under xdist and without.
- Keys in headers and bodies never reach the disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.core.http_flavours import default_flavour, flavour_module
from replay.core.recording import loads
from replay.engines.llama_cpp_python import LlamaServer, default_model_path
from replay.errors import ReplayMiss
from replay.player import Player
from replay.store.directory import DirectoryStore
from replay.transports.httpx_transport import replay_transport
from tests.conftest import recording_files

pytestmark = pytest.mark.real_server

STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


OPENED: list[openai.OpenAI] = []


def client_for(player: Player, base_url: str, **options: Any) -> openai.OpenAI:
    http = flavour_module(default_flavour()).Client(transport=replay_transport(player))
    client = openai.OpenAI(base_url=base_url, api_key="unused", http_client=http, **options)
    OPENED.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Any:
    yield
    while OPENED:
        OPENED.pop().close()


def assert_nothing_recorded(folder: Path) -> None:
    assert recording_files(folder) == []
    replaying = client_for(Player(DirectoryStore(folder), "replay"), "http://replay.test/v1")
    with pytest.raises(ReplayMiss):
        replaying.chat.completions.create(model="smollm2", messages=STORY, stream=True)


def test_server_dying_mid_stream_records_nothing(
    real_server_available: None, tmp_path: Path
) -> None:
    server = LlamaServer.start(default_model_path(), tmp_path / "server")
    try:
        player = Player(DirectoryStore(tmp_path / "rec"), "record")
        client = client_for(player, server.base_url, max_retries=0)
        stream = client.chat.completions.create(
            model="smollm2", messages=STORY, stream=True, temperature=0, max_tokens=300
        )
        received = 0
        # openai 3.x wraps an error met while streaming; openai 2.x lets httpx's through.
        http = flavour_module(default_flavour())
        with pytest.raises((openai.APIConnectionError, http.RemoteProtocolError)) as caught:
            for _ in stream:
                received += 1
                if received == 3:
                    server.process.kill()
        assert "incomplete" in repr(caught.value) + repr(caught.value.__cause__)
        assert received < 300
    finally:
        server.stop()
    assert player.stats.recorded == 0
    assert_nothing_recorded(tmp_path / "rec")


def test_leaving_a_stream_early_records_nothing(llama_server: LlamaServer, tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "record")
    client = client_for(player, llama_server.base_url)
    with client.chat.completions.create(
        model="smollm2", messages=STORY, stream=True, temperature=0, max_tokens=64
    ) as stream:
        for index, _ in enumerate(stream):
            if index == 2:
                break
    assert player.stats.recorded == 0
    assert_nothing_recorded(tmp_path)


def test_a_client_timeout_records_nothing(llama_server: LlamaServer, tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "record")
    client = client_for(player, llama_server.base_url, max_retries=0, timeout=0.005)
    http = flavour_module(default_flavour())
    with pytest.raises((openai.APITimeoutError, http.ReadTimeout)):
        for _ in client.chat.completions.create(
            model="smollm2", messages=STORY, stream=True, temperature=0, max_tokens=300
        ):
            pass
    assert_nothing_recorded(tmp_path)


def error_of(call: Any) -> tuple[type[BaseException], str, int, Any]:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    error = caught.value
    return type(error), str(error), error.status_code, error.body


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda client: client.completions.create(
                model="smollm2", prompt="hello " * 3000, max_tokens=4
            ),
            id="400-prompt-longer-than-context",
        ),
        pytest.param(
            lambda client: client.post("/no/such/endpoint", cast_to=object, body={"a": 1}),
            id="404-wrong-path",
        ),
    ],
)
def test_http_errors_replay_as_the_same_exception(
    llama_server: LlamaServer, tmp_path: Path, call: Any
) -> None:
    recorder = client_for(Player(DirectoryStore(tmp_path), "record"), llama_server.base_url)
    live = error_of(lambda: call(recorder))
    assert live[2] in (400, 404)
    [path] = recording_files(tmp_path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["response"]["status"] == live[2]
    replaying = client_for(Player(DirectoryStore(tmp_path), "replay"), "http://other:1/v1")
    assert error_of(lambda: call(replaying)) == live


XDIST_APP = """
import pytest

PROMPTS = ["red", "green", "blue", "yellow"]

@pytest.mark.parametrize("copy", ["a", "b"])
@pytest.mark.parametrize("colour", PROMPTS)
def test_colour(llm_replay, colour, copy):
    reply = llm_replay.openai().chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": f"Say {colour}"}],
        stream=True, temperature=0, max_tokens=12)
    assert "".join(c.choices[0].delta.content or "" for c in reply if c.choices)
"""


def test_recording_and_replaying_under_xdist(
    pytester: pytest.Pytester, llama_server: LlamaServer
) -> None:
    """Four workers record overlapping requests (each colour twice) at once."""
    pytester.makepyfile(test_xdist=XDIST_APP)
    url = llama_server.base_url
    recorded = pytester.runpytest_subprocess("-n", "4", "--record", "--llm-server-url", url)
    recorded.assert_outcomes(passed=8)
    files = recording_files(pytester.path / "recordings")
    assert len(files) == 8  # each colour twice, and each test keeps its own
    for path in files:
        recording = loads(path.read_bytes(), str(path))
        assert recording.events[-1] == "[DONE]"
    leftovers = [p for p in (pytester.path / "recordings").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    pytester.runpytest_subprocess("-n", "4").assert_outcomes(passed=8)
    pytester.runpytest_subprocess("-p", "no:xdist").assert_outcomes(passed=8)


SECRET_APP = """
def test_secret(llm_replay):
    client = llm_replay.openai(api_key="sk-proj-Abc123Def456Ghi789Jkl012Mno345")
    client.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Hi"}],
        user="sk-proj-Zyx987Wvu654Tsr321Qpo098Nml765", temperature=0, max_tokens=4)
"""


def test_keys_in_headers_and_bodies_never_reach_disk(
    pytester: pytest.Pytester, llama_server: LlamaServer
) -> None:
    pytester.makepyfile(test_secret=SECRET_APP)
    url = llama_server.base_url
    result = pytester.runpytest_subprocess("--record", "--llm-server-url", url)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*did not write *chat_completions*.json*OpenAI API key 'sk-pro…'*llm_replay_redact_body*"]
    )
    assert "Zyx987" not in result.stdout.str()
    assert recording_files(pytester.path / "recordings") == []

    # Redact the body field: the recording is written without either key, and replays.
    pytester.makeini("[pytest]\nllm_replay_redact_body = user\n")
    pytester.runpytest_subprocess("--record", "--llm-server-url", url).assert_outcomes(passed=1)
    [path] = recording_files(pytester.path / "recordings")
    text = path.read_text(encoding="utf-8")
    assert "sk-proj" not in text and '"user": "<redacted>"' in text
    assert "authorization" not in text.lower()
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
