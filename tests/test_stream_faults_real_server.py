"""A replayed stream cut by ``CutAfter`` fails in the client as a stream does when the real
llama.cpp server is killed mid-stream (as in
tests/test_real_server_failures.py::test_server_dying_mid_stream_records_nothing): the same
exception type and message, and the same HTTP library error under openai 3.x's wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from replay.core.http_flavours import default_flavour, flavour_module
from replay.engines.llama_cpp_python import LlamaServer, default_model_path
from replay.player import Player
from replay.shaping.faults import CutAfter
from replay.shaping.plan import Shaping
from replay.store.directory import DirectoryStore
from replay.transports.httpx_transport import replay_transport
from tests.conftest import recording_files

pytestmark = pytest.mark.real_server

STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


def client_for(player: Player, base_url: str, shaping: Shaping | None = None) -> openai.OpenAI:
    transport = replay_transport(player, shaping=shaping)
    http = flavour_module(default_flavour()).Client(transport=transport)
    return openai.OpenAI(base_url=base_url, api_key="unused", http_client=http, max_retries=0)


def failure_of(client: openai.OpenAI, max_tokens: int, kill: Any = None) -> tuple[Any, ...]:
    """Read a stream until it fails; what the client saw: the error's type and message, its
    cause's, and how many chunks came first. ``kill`` is called after the third chunk."""
    received = 0
    with pytest.raises(Exception) as caught:
        for _ in client.chat.completions.create(
            model="smollm2", messages=STORY, stream=True, temperature=0, max_tokens=max_tokens
        ):
            received += 1
            if received == 3 and kill is not None:
                kill()
    # openai 3.x wraps the HTTP library's error (its cause); openai 2.x raises it as it is.
    # That error's own cause, httpcore's internal one, is not reproduced by a replay.
    error = caught.value
    http_error = error.__cause__ if isinstance(error, openai.APIConnectionError) else error
    return type(error), str(error), type(http_error), str(http_error), received


def test_a_cut_stream_raises_as_the_real_server_killed_mid_stream(
    real_server_available: None, tmp_path: Path
) -> None:
    server = LlamaServer.start(default_model_path(), tmp_path / "server")
    try:
        recorder = client_for(Player(DirectoryStore(tmp_path / "rec"), "record"), server.base_url)
        for _ in recorder.chat.completions.create(
            model="smollm2", messages=STORY, stream=True, temperature=0, max_tokens=24
        ):
            pass
        assert len(recording_files(tmp_path / "rec")) == 1
        live = client_for(Player(DirectoryStore(tmp_path / "none"), "live"), server.base_url)
        killed = failure_of(live, 300, kill=server.process.kill)
    finally:
        server.stop()
    replaying = client_for(
        Player(DirectoryStore(tmp_path / "rec"), "replay"),
        "http://replay.test/v1",
        Shaping(faults=(CutAfter(3),)),
    )
    cut = failure_of(replaying, 24)
    print(f"killed server: {killed}\ncut replay:    {cut}")
    assert cut[4] == 3
    assert "incomplete chunked read" in cut[1] + cut[3]
    assert cut[:4] == killed[:4]
