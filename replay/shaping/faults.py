"""Faults a replay can inject at chosen points: an HTTP error status instead of the answer,
a stream cut off after its K-th event, a late first byte. Pure data and validation.

Each fault acts on the next ``times`` requests of a test that it can act on (those to
``endpoint`` only, if it names one). In the marker a fault is one of these dataclasses or a
plain dict::

    @pytest.mark.llm_replay(faults=[{"status": 429, "headers": {"retry-after": "0"}, "times": 2}])
    @pytest.mark.llm_replay(faults=[{"cut_after": 3}])
    @pytest.mark.llm_replay(faults=[{"delay": 2.5}])
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from replay.errors import LLMReplayError

__all__ = ["CutAfter", "DelayFirstByte", "FailWith", "Fault", "describe", "error_body", "fault"]


@dataclass(frozen=True)
class FailWith:
    """Answer with ``status`` (and ``headers``, ``body``) instead of the recording, for the
    first ``times`` requests; the request after them gets the recording. The failed attempts
    do not use up a recording, so the client's retry replays it."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None  # JSON value or text; by default an error object shaped like the API's
    times: int = 1
    endpoint: str | None = None

    def __post_init__(self) -> None:
        _check_times(self)
        _check_endpoint(self)
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise _error(self, f"status {self.status!r} is not an integer")
        if not 400 <= self.status <= 599:
            raise _error(self, f"status {self.status} is not an HTTP error status (400-599)")
        if not isinstance(self.headers, Mapping) or not all(
            isinstance(name, str) and isinstance(value, str) for name, value in self.headers.items()
        ):
            raise _error(self, f"headers {self.headers!r} is not a mapping of strings to strings")


@dataclass(frozen=True)
class CutAfter:
    """End a replayed stream after its first ``events`` events, as a server that dies does:
    the client's read fails with the error of a connection closed mid-body."""

    events: int
    times: int = 1
    endpoint: str | None = None

    def __post_init__(self) -> None:
        _check_times(self)
        _check_endpoint(self)
        if isinstance(self.events, bool) or not isinstance(self.events, int) or self.events < 0:
            raise _error(self, f"events {self.events!r} is not a whole number >= 0")


@dataclass(frozen=True)
class DelayFirstByte:
    """Wait ``seconds`` before answering. A client whose read timeout is shorter sees its
    timeout (after that timeout, not after ``seconds``)."""

    seconds: float
    times: int = 1
    endpoint: str | None = None

    def __post_init__(self) -> None:
        _check_times(self)
        _check_endpoint(self)
        number = self.seconds
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _error(self, f"seconds {number!r} is not a number")
        if not (math.isfinite(number) and number >= 0):
            raise _error(self, f"seconds {number!r} is not a finite number >= 0")


Fault = FailWith | CutAfter | DelayFirstByte

# The dict form: the key that names the kind, and the dataclass field it fills.
_KINDS: dict[str, tuple[type[Fault], str]] = {
    "status": (FailWith, "status"),
    "cut_after": (CutAfter, "events"),
    "delay": (DelayFirstByte, "seconds"),
}
_COMMON = frozenset({"times", "endpoint"})
_EXTRA = {
    FailWith: frozenset({"headers", "body"}),
    CutAfter: frozenset(),
    DelayFirstByte: frozenset(),
}
DICT_FORMS = (
    '{"status": 429, "headers": {"retry-after": "0"}, "times": 2}, {"cut_after": 3}, '
    '{"delay": 2.5}; each may add "times" and "endpoint"'
)


def fault(value: object) -> Fault:
    """A fault from the marker: a fault dataclass as it is, or its dict form; a clear
    ``LLMReplayError`` for anything else."""
    if isinstance(value, FailWith | CutAfter | DelayFirstByte):
        return value
    if not isinstance(value, Mapping):
        raise LLMReplayError(
            f"pytest-llm-playback: llm_replay(faults=[...]) takes FailWith, CutAfter or "
            f"DelayFirstByte objects or dicts such as {DICT_FORMS}; got {value!r}"
        )
    kinds = [key for key in value if key in _KINDS]
    if len(kinds) != 1:
        raise LLMReplayError(
            f"pytest-llm-playback: fault {dict(value)!r} must have exactly one of "
            f"{sorted(_KINDS)} (forms: {DICT_FORMS})"
        )
    kind, field_name = _KINDS[kinds[0]]
    unknown = set(value) - {kinds[0]} - _COMMON - _EXTRA[kind]
    if unknown:
        allowed = sorted({kinds[0]} | _COMMON | _EXTRA[kind])
        raise LLMReplayError(
            f"pytest-llm-playback: fault {dict(value)!r} has unknown keys {sorted(unknown)}; "
            f"a {kinds[0]!r} fault takes {allowed}"
        )
    arguments = {key: item for key, item in value.items() if key != kinds[0]}
    arguments[field_name] = value[kinds[0]]
    return kind(**arguments)


def describe(item: Fault) -> str:
    """A fault as the session report names it."""
    if isinstance(item, FailWith):
        headers = "".join(f", {name}: {value}" for name, value in sorted(item.headers.items()))
        return f"HTTP {item.status}{headers}"
    if isinstance(item, CutAfter):
        return f"stream cut after event {item.events}"
    return f"first byte delayed {item.seconds:g} s"


def error_body(item: FailWith, endpoint: str) -> bytes:
    """The body of an injected error: the fault's own, or an error object in the shape of
    the API the request went to (Anthropic's for ``/v1/messages``, else OpenAI's)."""
    if isinstance(item.body, str):
        return item.body.encode("utf-8")
    if item.body is not None:
        return json.dumps(item.body, ensure_ascii=False).encode("utf-8")
    reason = _reason(item.status)
    message = f"{reason} (injected by pytest-llm-playback)"
    if endpoint.endswith("/messages"):
        kinds = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}
        kind = kinds.get(
            item.status, "api_error" if item.status >= 500 else "invalid_request_error"
        )
        return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    error = {"message": message, "type": reason.lower().replace(" ", "_"), "code": item.status}
    return json.dumps({"error": error}).encode()


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _check_times(item: Fault) -> None:
    if isinstance(item.times, bool) or not isinstance(item.times, int) or item.times < 1:
        raise _error(item, f"times {item.times!r} is not a whole number >= 1")


def _check_endpoint(item: Fault) -> None:
    if item.endpoint is not None and not (
        isinstance(item.endpoint, str) and item.endpoint.startswith("/")
    ):
        raise _error(item, f"endpoint {item.endpoint!r} is not a path such as /v1/chat/completions")


def _error(item: Fault, problem: str) -> LLMReplayError:
    return LLMReplayError(f"pytest-llm-playback: {type(item).__name__}: {problem}")
