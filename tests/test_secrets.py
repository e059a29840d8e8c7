"""Secrets: the scan before every write, and the user's redaction settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replay.core.http_flavours import FLAVOURS, Flavour, flavour_module
from replay.core.redaction import REDACTED, Redaction, secret_name
from replay.core.secret_scan import (
    BUILTIN_PATTERNS,
    compile_patterns,
    find_in_stream,
    find_secrets,
    mask_secrets,
)
from replay.errors import LLMReplayError
from replay.player import Player, Rules
from replay.store.directory import DirectoryStore
from replay.transports.httpx_transport import replay_transport

KEYS = {
    "OpenAI API key": "sk-proj-Abc123Def456Ghi789Jkl012Mno345",
    "Anthropic API key": "sk-ant-api03-Qwe123Rty456Uio789Pas012",
    "Hugging Face token": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "bearer token": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",
    "AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "Google API key": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
}


def test_every_builtin_pattern_has_an_example_key() -> None:
    assert set(KEYS) == set(BUILTIN_PATTERNS)


@pytest.mark.parametrize(("kind", "key"), KEYS.items())
def test_each_kind_of_key_is_found_and_masked(kind: str, key: str) -> None:
    [finding] = find_secrets(f'{{\n  "x": "{key}"\n}}', compile_patterns())
    assert finding.startswith(f"line 2: {kind} ")
    assert key not in finding and key[:6] in finding


@pytest.mark.parametrize(
    "text",
    [
        "task-oriented-dialogue-systems and risk-management-frameworks",
        "the bearer of bad news",
        "chatcmpl-ba137609-1a09-4bda-929d-d62b0f38d583",
        "sk-short1",
    ],
)
def test_ordinary_text_is_no_secret(text: str) -> None:
    assert find_secrets(text, compile_patterns()) == []


def test_user_patterns_are_added() -> None:
    patterns = compile_patterns([r"corp-[0-9]{6}"])
    assert find_secrets("id corp-123456", patterns) == ["line 1: pattern 'corp-[0-9]{6}' 'corp-1…'"]


def test_body_fields_are_redacted_through_objects_and_lists() -> None:
    body = {"user": "u", "metadata": {"token": "t", "keep": 1}, "messages": [{"name": "a"}, {}]}
    redacted = Redaction(body_fields=("user", "metadata.token", "messages.name")).body(body)
    assert redacted == {
        "user": REDACTED,
        "metadata": {"token": REDACTED, "keep": 1},
        "messages": [{"name": REDACTED}, {}],
    }
    assert body["user"] == "u", "the caller's body is not changed"


def server(flavour: Flavour) -> Any:
    http = flavour_module(flavour)
    body = b'{"object": "chat.completion", "id": "1", "choices": [], "created": 1, "model": "m"}'
    return http.MockTransport(
        lambda request: http.Response(
            200, headers={"content-type": "application/json"}, content=body
        )
    )


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_key_in_the_body_stops_the_write_and_names_where(
    flavour: Flavour, tmp_path: Path
) -> None:
    player = Player(DirectoryStore(tmp_path), "record")
    client = flavour_module(flavour).Client(
        transport=replay_transport(player, flavour, real=server(flavour))
    )
    with pytest.raises(LLMReplayError) as caught:
        client.post(
            "http://h/v1/chat/completions",
            json={"model": "m", "note": KEYS["OpenAI API key"]},
            headers={"Authorization": f"Bearer {KEYS['OpenAI API key']}"},
        )
    message = str(caught.value)
    assert (
        str(tmp_path / "_shared" / "chat_completions-") in message and "OpenAI API key" in message
    )
    assert KEYS["OpenAI API key"] not in message
    assert list(tmp_path.rglob("*")) == []


def test_configured_headers_and_fields_are_not_written(tmp_path: Path) -> None:
    flavour: Flavour = "httpx"
    redaction = Redaction(headers=frozenset({"X-Team-Token"}), body_fields=("note",))
    player = Player(DirectoryStore(tmp_path), "record", rules=Rules(redaction=redaction))
    client = flavour_module(flavour).Client(
        transport=replay_transport(player, flavour, real=server(flavour))
    )
    client.post(
        "http://h/v1/chat/completions",
        json={"model": "m", "note": KEYS["OpenAI API key"]},
        headers={"X-Team-Token": "team-secret-value", "api-key": "azure-secret-value"},
    )
    [path] = tmp_path.rglob("*.json")
    text = path.read_text(encoding="utf-8")
    assert "secret-value" not in text and "sk-proj" not in text
    assert f'"note": "{REDACTED}"' in text
    # A request with another value of the redacted field still finds the recording.
    replaying = Player(DirectoryStore(tmp_path), "replay", rules=Rules(redaction=redaction))
    again = flavour_module(flavour).Client(transport=replay_transport(replaying, flavour))
    assert again.post("http://h/v1/chat/completions", json={"model": "m", "note": "other"}).json()


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True), ("api-key", True), ("apiKey", True), ("key", True),
        ("token", True), ("access_token", True), ("x-goog-api-key", True),
        ("x-auth-token", True), ("client_secret", True), ("db_password", True),
        ("AccessToken", True), ("max_tokens", False), ("completion_tokens", False),
        ("monkey", False), ("top_k", False), ("x-request-id", False), ("user", False),
    ],
)  # fmt: skip
def test_names_that_say_secret(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def test_a_name_kept_and_the_cache_key_are_not_redacted() -> None:
    redaction = Redaction(not_secret=frozenset({"Session_Token"}))
    body = {"session_token": "a", "prompt_cache_key": "b", "api_key": "c"}
    assert redaction.body(body) == {**body, "api_key": REDACTED}


def test_urls_lose_their_password_and_secret_query_values_only() -> None:
    url = "http://u:pw@127.0.0.1:8/v1/x?api_key=k1&q=sk%2Dx&token&access_token=t&n=1"
    assert Redaction().url(url) == (
        "http://127.0.0.1:8/v1/x?api_key=<redacted>&q=sk%2Dx&token=<redacted>"
        "&access_token=<redacted>&n=1"
    )


@pytest.mark.parametrize(
    "text",
    [
        "x-request-id: req-" + KEYS["OpenAI API key"],
        "q=" + KEYS["OpenAI API key"].replace("-", "%2D"),
        "note=\\\\u0073" + KEYS["OpenAI API key"][1:],
        "note=\\u0073" + KEYS["OpenAI API key"][1:],
    ],
)
def test_keys_in_disguise_are_found(text: str) -> None:
    [finding] = find_secrets(text, compile_patterns())
    assert "OpenAI API key 'sk-pro…'" in finding


def test_a_key_streamed_across_deltas_is_found_in_the_joined_text() -> None:
    key = KEYS["OpenAI API key"]
    events = [{"choices": [{"delta": {"content": part}}]} for part in ("is ", key[:5], key[5:])]
    events.append("[DONE]")
    assert all(find_secrets(str(event), compile_patterns()) == [] for event in events)
    [finding] = find_in_stream(events, compile_patterns())
    assert "choices[0].delta.content" in finding and key not in finding


def test_mask_secrets_leaves_no_key_and_the_rest_of_the_text() -> None:
    text = f"~ body.user: 'u' -> '{KEYS['OpenAI API key']}' and {KEYS['AWS access key id']}"
    assert mask_secrets(text) == "~ body.user: 'u' -> 'sk-pro…' and AKIAIO…"
