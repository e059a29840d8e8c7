"""Answers reassembled from recorded events (``replay.answer``), without the command line."""

from __future__ import annotations

from typing import Any

from replay import typed
from replay.answer import answers

CHAT = "/v1/chat/completions"


def test_answers_put_streamed_tool_calls_together() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return typed.encode({"object": "chat.completion.chunk", "choices": [choice]}, CHAT)

    call = {"index": 0, "id": "c1", "type": "function"}
    events = [
        chunk({"role": "assistant", "tool_calls": [call | {"function": {"name": "weather"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]
    (answer,) = answers(events).values()
    assert answer.text == "" and answer.finish_reason == "tool_calls"
    assert [(t.name, t.arguments) for t in answer.tool_calls.values()] == [
        ("weather", '{"city": "Paris"}')
    ]
