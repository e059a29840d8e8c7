"""Issue 14's adversarial cases, each recorded against a server that misbehaves on purpose
(``tests/hostile_server.py``, on 127.0.0.1) or replayed from recordings llama.cpp made.

1. replay from a read-only checkout; 2. close-delimited streams cut short; 3. compressed
answers; 4. secrets on disk; 5. secrets in messages; 6. FIFOs, devices and slow misses;
7. files the SDK cannot read; 8. folders that cannot be written; 9. a second event loop.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.cli import main as llm_replay
from replay.errors import LLMReplayError, RecordingFileError, ReplayFailure, ReplayMiss
from replay.player import Player
from replay.recording import Recording, loads
from replay.redaction import REDACTED, Redaction
from replay.store import DirectoryStore, MemoryStore
from replay.transport import default_flavour, flavour_module, replay_transport
from tests.conftest import recording_files
from tests.hostile_server import STREAMED_KEY, HostileServer

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "recordings"
# A chat request llama.cpp answered in the committed recordings (the quickstart's joke).
JOKE_FILE = REAL / "chat_completions" / "bd3faea6f2e70907.json"
KEY = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"
MESSAGES = [{"role": "user", "content": "Tell me a story"}]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def client(player: Player, base_url: str, **options: Any) -> openai.OpenAI:
    http = raw(player)
    return openai.OpenAI(base_url=base_url, api_key="unused", http_client=http, **options)


def raw(player: Player) -> Any:
    """An httpx/httpx2 client on the transport, for requests the SDK would not make."""
    http = flavour_module(default_flavour()).Client(transport=replay_transport(player))
    OPENED.append(http)
    return http


def recorder(folder: Path, **options: Any) -> Player:
    return Player(DirectoryStore(folder), "record", **options)


def only_recording(folder: Path) -> tuple[Recording, str]:
    [path] = recording_files(folder)
    text = path.read_text(encoding="utf-8")
    return loads(text, str(path)), text


# --- 2. a stream is complete only when its protocol says so ----------------------------


def test_a_close_delimited_stream_cut_short_is_not_recorded(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    chat = client(player, hostile.base_url("truncated"), max_retries=0)
    stream = chat.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "Once upon a time", "the client read three events and a clean close"
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


@pytest.mark.parametrize("mode", ["close-done", "anthropic-close", "responses-close"])
def test_a_close_delimited_stream_that_says_it_ended_is_recorded(
    hostile: HostileServer, tmp_path: Path, mode: str
) -> None:
    player = recorder(tmp_path)
    http = raw(player)
    with http.stream(
        "POST", hostile.base_url(mode) + "/messages", json={"stream": True}
    ) as response:
        wire = b"".join(response.iter_bytes())
    assert player.stats.recorded == 1
    recording, _ = only_recording(tmp_path)
    replayed = Player(DirectoryStore(tmp_path), "replay")
    again = raw(replayed).post(hostile.base_url(mode) + "/messages", json={"stream": True})
    assert data_of(again.content) == data_of(wire) and len(data_of(wire)) >= 3
    assert recording.is_streaming


def data_of(wire: bytes) -> list[Any]:
    """The data of each event, parsed where it is JSON (replay writes JSON compact)."""
    lines = [line[5:].strip() for line in wire.decode().splitlines() if line.startswith("data:")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


def test_an_anthropic_stream_cut_before_message_stop_is_not_recorded(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    with raw(player).stream(
        "POST", hostile.base_url("anthropic-cut") + "/messages", json={"stream": True}
    ) as response:
        assert b"content_block_delta" in b"".join(response.iter_bytes())
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


# --- 3. compressed answers -------------------------------------------------------------------


def test_a_gzipped_json_answer_is_recorded_decoded(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("gzip-json"))
    answer = live.chat.completions.create(model="m", messages=MESSAGES)
    assert player.stats.recorded == 1
    _, text = only_recording(tmp_path)
    assert "content-encoding" not in text
    assert '"content": "Once upon a time"' in text
    replayed = client(Player(DirectoryStore(tmp_path), "replay"), hostile.base_url("gzip-json"))
    again = replayed.chat.completions.create(model="m", messages=MESSAGES)
    assert again.model_dump() == answer.model_dump()
    assert llm_replay(["--dir", str(tmp_path), "verify"]) == 0


def test_a_gzipped_stream_is_recorded_decoded(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("gzip-stream"))
    stream = live.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Once upon a time"
    assert player.stats.recorded == 1
    recording, _ = only_recording(tmp_path)
    assert len(recording.events) == 4 and recording.events[-1] == "[DONE]"
    replayed = client(Player(DirectoryStore(tmp_path), "replay"), hostile.base_url("gzip-stream"))
    again = replayed.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in again) == "Once upon a time"


def test_an_encoding_the_recorder_cannot_undo_is_refused_with_the_reason(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    with pytest.raises(ReplayFailure, match=r"content-encoding 'br'.*send it uncompressed"):
        raw(player).post(hostile.base_url("brotli-json") + "/chat/completions", json={})
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


def test_verify_flags_a_compressed_body_saved_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-made file: what the recorder wrote before it decoded (gzip bytes read as text)."""
    document = json.loads(JOKE_FILE.read_text(encoding="utf-8"))
    document["response"] |= {"is_streaming": False, "content_type": "application/json"}
    document["response"].pop("event_ms")
    garbage = gzip.compress(b'{"object": "chat.completion"}').decode("utf-8", errors="replace")
    document["response"]["body"] = garbage
    target = tmp_path / "chat_completions" / JOKE_FILE.name
    target.parent.mkdir()
    target.write_text(json.dumps(document), encoding="utf-8")
    assert llm_replay(["--dir", str(tmp_path), "verify"]) == 1
    out = capsys.readouterr().out
    assert f"{target}: response.body is text that is not JSON" in out
    assert "binary data" in out and "1 problem" in out


# --- 4. secrets on disk ---------------------------------------------------------------------


def test_the_password_of_a_url_is_not_written(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("chat", userinfo="user:PASSWORD123@"))
    live.chat.completions.create(model="m", messages=MESSAGES)
    recording, text = only_recording(tmp_path)
    assert "PASSWORD123" not in text and "user:" not in text
    assert recording.url.startswith(f"http://127.0.0.1:{hostile.port}/chat/v1/")
    assert recording.recorded["server"] == f"http://127.0.0.1:{hostile.port}"


@pytest.mark.parametrize(
    ("name", "query", "body"),
    [
        ("a percent-encoded key in the query", "?q=sk%2Dproj%2DAbc123Def456Ghi789Jkl0", None),
        ("a \\u-escaped key in a form body", "", b"note=\\u0073k-proj-Abc123Def456Ghi789Jkl0"),
        ("a key right after a -", "", b'{"note": "req-' + KEY.encode() + b'"}'),
    ],
)
def test_a_key_in_disguise_stops_the_write(
    hostile: HostileServer, tmp_path: Path, name: str, query: str, body: bytes | None
) -> None:
    player = recorder(tmp_path)
    url = hostile.base_url("chat") + "/chat/completions" + query
    with pytest.raises(ReplayFailure, match=r"looks like a secret.*OpenAI API key 'sk-pro…'"):
        raw(player).post(url, content=body or b"{}")
    assert recording_files(tmp_path) == [], name


@pytest.mark.parametrize("mode", ["split-key", "request-id-key"])
def test_a_key_the_server_sends_stops_the_write(
    hostile: HostileServer, tmp_path: Path, mode: str
) -> None:
    """Streamed across two deltas (in no single event), or in x-request-id after "req-"."""
    player = recorder(tmp_path)
    live = client(player, hostile.base_url(mode), max_retries=0)
    with pytest.raises(ReplayFailure) as caught:
        if mode == "split-key":
            for _ in live.chat.completions.create(model="m", messages=MESSAGES, stream=True):
                pass
        else:
            live.chat.completions.create(model="m", messages=MESSAGES)
    assert "looks like a secret" in str(caught.value) and STREAMED_KEY not in str(caught.value)
    assert recording_files(tmp_path) == []


def test_values_named_like_secrets_are_redacted_by_default(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    url = hostile.base_url("chat") + "/chat/completions?api_key=plain1&access_token=plain2&n=1"
    schema = {"properties": {"password": {"type": "string"}}}
    body = {"model": "m", "max_tokens": 5, "client_secret": "plain3", "db_password": "plain4",
            "tools": [{"parameters": schema}]}  # fmt: skip
    headers = {"x-goog-api-key": "plain5", "x-auth-token": "plain6", "x-team": "kept"}
    raw(player).post(url, json=body, headers=headers)
    recording, text = only_recording(tmp_path)
    for secret in ("plain1", "plain2", "plain3", "plain4", "plain5", "plain6"):
        assert secret not in text
    assert "?api_key=<redacted>&access_token=<redacted>&n=1" in recording.url
    assert recording.body["client_secret"] == REDACTED and recording.body["max_tokens"] == 5
    assert recording.body["tools"] == body["tools"], "a schema is no secret value"
    assert recording.headers["x-goog-api-key"] == REDACTED
    assert recording.headers["x-team"] == "kept"
    # Another value of each replays the recording: the hash does not depend on them.
    replayed = raw(Player(DirectoryStore(tmp_path), "replay"))
    other = url.replace("plain", "other")
    again = replayed.post(other, json={**body, "client_secret": "x", "db_password": "y"})
    assert again.json()["object"] == "chat.completion"


def test_a_name_listed_as_not_secret_is_kept(hostile: HostileServer, tmp_path: Path) -> None:
    redaction = Redaction(not_secret=frozenset({"Session_Token"}))
    player = recorder(tmp_path, redaction=redaction)
    raw(player).post(
        hostile.base_url("chat") + "/chat/completions",
        json={"model": "m", "session_token": "visible", "api_key": "hidden"},
    )
    recording, _ = only_recording(tmp_path)
    assert recording.body == {"model": "m", "session_token": "visible", "api_key": REDACTED}


# --- 9. a second event loop in one test --------------------------------------------------

TWO_LOOPS = """
import asyncio

import openai
import pytest


async def ask(word):
    async with openai.AsyncOpenAI(max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": word}], stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])


@pytest.mark.llm_replay
def test_two_loops():
    assert asyncio.run(ask("one")) == "Once upon a time"
    assert asyncio.run(ask("two")) == "Once upon a time"
"""


@pytest.mark.parametrize("mode", ["record", "live"])
def test_two_event_loops_in_one_test_record_and_live(
    pytester: pytest.Pytester, hostile: HostileServer, mode: str
) -> None:
    """Each ``asyncio.run`` with its own ``async with openai.AsyncOpenAI()``: a keep-alive
    connection of the first loop must not be used from the second."""
    pytester.makepyfile(TWO_LOOPS)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record-mode", mode,
        "--llm-server-url", hostile.base_url("chat"),
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    recorded = 2 if mode == "record" else 0
    result.stdout.fnmatch_lines([f"*0 replayed, {recorded} recorded, 0 missed*"])
    if mode == "record":  # the same path under the same base URL, with no server needed
        replayed = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--llm-server-url", hostile.base_url("chat")
        )
        replayed.assert_outcomes(passed=1)
        replayed.stdout.fnmatch_lines(["*2 replayed, 0 recorded, 0 missed*"])
