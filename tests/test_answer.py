"""Answers reassembled from recorded events (``replay.core.reassembly``), without the CLI."""

from __future__ import annotations

from typing import Any

from replay.core import typed_events
from replay.core.reassembly import answers

CHAT = "/v1/chat/completions"


def test_answers_put_streamed_tool_calls_together() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return typed_events.encode({"object": "chat.completion.chunk", "choices": [choice]}, CHAT)

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


def test_answers_of_the_messages_and_responses_apis_from_real_recordings() -> None:
    """The committed recordings that llama.cpp's native server made (scripts/main.sh)."""
    from pathlib import Path

    from replay.core.recording import loads

    folder = Path(__file__).resolve().parents[1] / "recordings"
    seen = set()
    for path in sorted(folder.rglob("messages-*.json")) + sorted(folder.rglob("responses-*.json")):
        recording = loads(path.read_bytes(), str(path))
        (answer,) = answers(recording.events).values()
        assert answer.text, path
        last = typed_events.payload(recording.events[-1])
        if recording.endpoint == "/v1/messages":
            assert answer.finish_reason in ("end_turn", "max_tokens"), path
        elif recording.is_streaming:  # the completed response holds the whole text
            [part] = last["response"]["output"][0]["content"]
            assert answer.text == part["text"] and answer.finish_reason == "completed"
        else:
            assert answer.text == last["output"][0]["content"][0]["text"]
        seen.add((recording.endpoint, recording.is_streaming))
    assert seen == {("/v1/messages", True), ("/v1/messages", False), ("/v1/responses", True),
                    ("/v1/responses", False)}  # fmt: skip
