"""What a recorded response says: its answer reassembled from the recorded events, and the
description of it that ``llm-playback show`` prints.

Pure: takes a recording or its events and returns values and lines. The text and tool calls
of each choice are put back together from streamed deltas, whole messages or completion text;
embeddings, model lists and HTTP errors are summed up; timing and token counts are read from
the recording.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from replay import typed
from replay.recording import Recording


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
        value = typed.payload(element)
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


def describe_response(recording: Recording) -> list[str]:
    """What the response says, in lines: the answer per choice, the vectors of embeddings,
    the ids of a model list, or the status and message of an error."""
    events = recording.events
    if recording.status >= 400:
        body = typed.payload(events[0]) if events else None
        return [f"error:    HTTP {recording.status}: {error_message(body)}"]
    lines = [
        f"error:    in the stream: {error_message(value)}"
        for value in payloads(events)
        if "error" in value and "choices" not in value
    ]
    found = answers(events)
    if found:
        return lines + _answer_lines(found)
    first = next(payloads(events), None)
    if first is None:
        return [*lines, "answer:   (the response holds no JSON object)"]
    data = first.get("data")
    if isinstance(data, list) and (
        recording.endpoint.endswith("/embeddings")
        or any(isinstance(item, dict) and "embedding" in item for item in data)
    ):
        return lines + _embedding_lines(data)
    if isinstance(data, list):
        ids = [str(item.get("id")) for item in data if isinstance(item, dict)]
        return [*lines, f"models:   {len(ids)}: {', '.join(ids) if ids else '(none)'}"]
    if first.get("object") == "model":
        return [*lines, f"model:    {first.get('id')}"]
    return [*lines, "answer:   (no choices, embeddings or models in the response)"]


def error_message(body: Any) -> str:
    """The message of an error body, whichever of the usual shapes it has."""
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                return str(value.get("message") or json.dumps(value, ensure_ascii=False))
            if value is not None:
                return str(value)
        return json.dumps(body, ensure_ascii=False)
    return str(body) if body is not None else "(empty body)"


def _answer_lines(found: dict[int, Answer]) -> list[str]:
    lines = []
    for index, answer in found.items():
        label = f"answer, choice {index}" if len(found) > 1 else "answer"
        finish = f" (finish_reason: {answer.finish_reason})" if answer.finish_reason else ""
        lines.append(f"{label}{finish}:")
        if answer.text:
            lines += indented(answer.text)
        for tool in answer.tool_calls.values():
            lines.append(f"  tool call: {tool.name}({tool.arguments})")
        if not answer.text and not answer.tool_calls:
            lines.append("  (no text)")
    return lines


def _embedding_lines(data: list[Any]) -> list[str]:
    shapes = [
        vector_shape(item.get("embedding")) if isinstance(item, dict) else "not an object"
        for item in data
    ]
    count = f"{len(shapes)} vector{'s' if len(shapes) != 1 else ''}"
    if len(set(shapes)) == 1:
        return [f"embeddings: {count}, {'each ' if len(shapes) > 1 else ''}{shapes[0]}"]
    return [f"embeddings: {count}"] + [f"  [{i}] {shape}" for i, shape in enumerate(shapes)]


def vector_shape(embedding: Any) -> str:
    """How long a vector is: numbers, base64 floats, or one vector per token."""
    if isinstance(embedding, str):
        try:
            return f"{len(base64.b64decode(embedding, validate=True)) // 4} numbers (base64)"
        except (binascii.Error, ValueError):
            return "a string that is not base64"
    if isinstance(embedding, list):
        if embedding and all(isinstance(row, list) for row in embedding):
            return f"{len(embedding)} x {len(embedding[0])} numbers (one vector per token)"
        return f"{len(embedding)} numbers"
    return f"not a vector ({type(embedding).__name__})"


def timing(event_ms: Sequence[float] | None, is_streaming: bool) -> str | None:
    """Time to first event and the rate of events after it, from ``event_ms``."""
    if not event_ms:
        return None
    if not is_streaming:
        return f"response after {event_ms[0]:.0f} ms"
    text = f"first event after {event_ms[0]:.0f} ms"
    span = (event_ms[-1] - event_ms[0]) / 1000
    if len(event_ms) > 1 and span > 0:
        text += f", then {(len(event_ms) - 1) / span:.1f} events/s over {span:.2f} s"
    return text


def usage_line(events: Sequence[Any]) -> str | None:
    """Token counts, from the last object that carries them."""
    counted = [value["usage"] for value in payloads(events) if isinstance(value.get("usage"), dict)]
    if not counted:
        return None
    usage = counted[-1]
    parts = [
        f"{label} {usage[name]}"
        for name, label in (
            ("prompt_tokens", "prompt"),
            ("completion_tokens", "completion"),
            ("total_tokens", "total"),
            ("input_tokens", "input"),  # the Messages and Responses APIs
            ("output_tokens", "output"),
        )
        if name in usage
    ]
    return f"{', '.join(parts)} tokens" if parts else None


def indented(text: str, prefix: str = "  ") -> list[str]:
    """Every line of ``text`` behind ``prefix``, empty lines included."""
    return [prefix + line for line in text.split("\n")]
