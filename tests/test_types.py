"""Editors and type checkers see what the fixture hands out: ``llm_replay.openai()`` is an
``openai.OpenAI``, so ``client.chat.completions.create`` completes and returns a typed answer,
and a test using the fixture passes ``mypy --strict``."""

from __future__ import annotations

from pathlib import Path

from mypy import api

USER_TEST = """
import pytest

from replay import LLMReplay, SecretInRecording


async def test_typed(llm_replay: LLMReplay) -> None:
    reply = llm_replay.openai().chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}])
    reveal_type(reply)
    reveal_type(await llm_replay.async_openai().models.list())
    reveal_type(llm_replay.http_client("httpx"))
    reveal_type(llm_replay.async_http_client("httpx2"))
    with pytest.raises(SecretInRecording):
        pass
"""


def test_the_fixture_is_typed_for_mypy_strict(tmp_path: Path) -> None:
    source = tmp_path / "test_user.py"
    source.write_text(USER_TEST, encoding="utf-8")
    out, err, _status = api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(source)]
    )
    revealed = [
        line.split("Revealed type is ")[1] for line in out.splitlines() if "Revealed" in line
    ]
    assert revealed == [
        '"openai.types.chat.chat_completion.ChatCompletion"',
        '"openai.pagination.AsyncPage[openai.types.model.Model]"',
        '"httpx._client.Client"',
        '"httpx2._client.AsyncClient"',
    ], out + err
    assert "error" not in out, out
