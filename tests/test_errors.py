"""The library's errors reach the test as themselves, through the openai SDK: a test can
``pytest.raises`` the specific error, the SDK neither retries it nor renames it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from replay.core.http_flavours import default_flavour, flavour_module
from replay.errors import LLMReplayError, ReplayMiss, SecretInRecording
from replay.player import Player
from replay.store.directory import DirectoryStore
from replay.transports.httpx_transport import replay_transport

# Shaped like an OpenAI key, made up for this test.
FAKE_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0" * 3


def answering_server(calls: list[Any]) -> Any:
    """A hand-made stand-in server (an error-path test: the secret stops the write whatever
    the answer), counting the requests that reach it."""
    http = flavour_module(default_flavour())
    body = (
        b'{"object": "chat.completion", "id": "1", "created": 1, "model": "m", "choices": '
        b'[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", '
        b'"content": "hi"}}]}'
    )

    def answer(request: Any) -> Any:
        calls.append(request)
        return http.Response(200, headers={"content-type": "application/json"}, content=body)

    return http.MockTransport(answer)


def openai_client(player: Player, real: Any) -> openai.OpenAI:
    http = flavour_module(default_flavour())
    transport = replay_transport(player, real=real)
    return openai.OpenAI(
        base_url="http://h/v1", api_key="x", http_client=http.Client(transport=transport)
    )


def test_a_secret_reaches_the_test_as_secret_in_recording(tmp_path: Path) -> None:
    calls: list[Any] = []
    client = openai_client(Player(DirectoryStore(tmp_path), "record"), answering_server(calls))
    with pytest.raises(SecretInRecording, match="looks like a secret"):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"my key is {FAKE_KEY}"}]
        )
    assert len(calls) == 1, "the SDK did not retry it"
    assert list(tmp_path.rglob("*.json")) == []


def test_a_miss_reaches_the_test_as_replay_miss_and_as_the_base_error(tmp_path: Path) -> None:
    calls: list[Any] = []
    client = openai_client(Player(DirectoryStore(tmp_path), "replay"), answering_server(calls))
    for expected in (ReplayMiss, LLMReplayError):
        with pytest.raises(expected, match="no recording for POST /v1/chat/completions"):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert calls == []
