"""A recorded response's answer, reassembled from its events: the text and tool calls of each
choice, whichever API (chat, completions, Anthropic Messages, Responses) sent them. Pure.

The text and tool calls of each choice are put back together from streamed deltas, whole
messages or completion text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from replay.core import typed_events


@dataclass(slots=True)
class ToolCall:
    """A function call a choice asked for; streamed arguments arrive in pieces."""

    name: str = ""
    arguments: str = ""


@dataclass(slots=True)
class Answer:
    """The reassembled output of one choice."""

    text: str = ""
    tool_calls: dict[int, ToolCall] = field(default_factory=dict)
    finish_reason: str | None = None


def answers(events: Sequence[Any]) -> dict[int, Answer]:
    """Per choice index, the text and tool calls of chat and text completions: streamed
    ``delta.content``, whole ``message.content`` or completion ``text``, in event order."""
    found: dict[int, Answer] = {}
    for value in payloads(events):
        _add_messages_or_responses(found, value)
        choices = value.get("choices")
        if not isinstance(choices, list):
            continue
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            answer = found.setdefault(index if isinstance(index, int) else 0, Answer())
            part = choice.get("delta", choice.get("message"))
            if isinstance(part, dict):
                answer.text += _text(part.get("content"))
                _add_tool_calls(answer, part.get("tool_calls"))
            else:
                answer.text += _text(choice.get("text"))
            if isinstance(choice.get("finish_reason"), str):
                answer.finish_reason = choice["finish_reason"]
    return dict(sorted(found.items()))


def _add_messages_or_responses(found: dict[int, Answer], value: dict[str, Any]) -> None:
    """The text, tool calls and stop reason of the Anthropic Messages API (a ``message``, or
    its stream events) and of the OpenAI Responses API (a ``response``, or its text deltas)."""
    kind = value.get("type")
    if kind == "message" or value.get("object") == "response":
        answer = found.setdefault(0, Answer())
        for block in _blocks(value):
            answer.text += _text(block.get("text"))
            if block.get("type") in ("tool_use", "function_call"):
                arguments = block.get("input", block.get("arguments"))
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments, ensure_ascii=False)
                answer.tool_calls[len(answer.tool_calls)] = ToolCall(
                    str(block.get("name") or ""), arguments
                )
        reason = value.get("stop_reason") or value.get("status")
        answer.finish_reason = reason if isinstance(reason, str) else answer.finish_reason
        return
    if not isinstance(kind, str):
        return
    delta = value.get("delta")
    if kind == "content_block_start" and isinstance(value.get("content_block"), dict):
        block = value["content_block"]
        if block.get("type") == "tool_use":
            index = value.get("index")
            calls = found.setdefault(0, Answer()).tool_calls
            calls[index if isinstance(index, int) else len(calls)] = ToolCall(
                str(block.get("name") or "")
            )
    elif kind == "content_block_delta" and isinstance(delta, dict):
        answer = found.setdefault(0, Answer())
        answer.text += _text(delta.get("text"))
        tool = answer.tool_calls.get(value.get("index"))  # type: ignore[arg-type]
        if tool is not None:
            tool.arguments += _text(delta.get("partial_json"))
    elif kind == "message_delta" and isinstance(delta, dict):
        if isinstance(delta.get("stop_reason"), str):
            found.setdefault(0, Answer()).finish_reason = delta["stop_reason"]
    elif kind == "response.output_text.delta":
        found.setdefault(0, Answer()).text += _text(delta)
    elif kind in ("response.completed", "response.incomplete", "response.failed"):
        response = value.get("response")
        status = response.get("status") if isinstance(response, dict) else None
        if isinstance(status, str):
            found.setdefault(0, Answer()).finish_reason = status


def _blocks(value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The content blocks of a message, or the output items and their parts of a response."""
    for item in value.get("content") or value.get("output") or []:
        if not isinstance(item, dict):
            continue
        parts = item.get("content")
        if value.get("object") == "response" and isinstance(parts, list):
            yield from (part for part in parts if isinstance(part, dict))
        else:
            yield item


def payloads(events: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a response, typed envelopes opened, ``[DONE]`` left out."""
    for element in events:
        value = typed_events.payload(element)
        if isinstance(value, dict):
            yield value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(part["text"] for part in value if isinstance(part, dict) and "text" in part)
    return ""


def _add_tool_calls(answer: Answer, calls: Any) -> None:
    if not isinstance(calls, list):
        return
    for position, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        index = call.get("index")
        tool = answer.tool_calls.setdefault(
            index if isinstance(index, int) else position, ToolCall()
        )
        function = call.get("function")
        if isinstance(function, dict):
            tool.name = function.get("name") or tool.name
            tool.arguments += _text(function.get("arguments"))
