"""What ``llm-playback show`` prints of a recorded response: the answer per choice, the
vectors of embeddings, the ids of a model list, or the status and message of an error."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from replay.core import typed_events
from replay.core.reassembly import Answer, answers, payloads
from replay.core.recording import Recording


def describe_response(recording: Recording) -> list[str]:
    """What the response says, in lines: the answer per choice, the vectors of embeddings,
    the ids of a model list, or the status and message of an error."""
    events = recording.events
    if recording.status >= 400:
        body = typed_events.payload(events[0]) if events else None
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
