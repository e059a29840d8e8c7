"""replay.shaping.faults: the fault dataclasses, their dict forms, and the errors for bad input."""

from __future__ import annotations

import json

import pytest

from replay.errors import LLMReplayError
from replay.shaping.faults import (
    CutAfter,
    DelayFirstByte,
    FailWith,
    describe,
    error_body,
    fault,
)


def test_dict_forms_give_the_dataclasses() -> None:
    assert fault({"status": 429, "headers": {"retry-after": "0"}, "times": 2}) == FailWith(
        429, {"retry-after": "0"}, times=2
    )
    assert fault({"cut_after": 3, "endpoint": "/v1/chat/completions"}) == CutAfter(
        3, endpoint="/v1/chat/completions"
    )
    assert fault({"delay": 2.5}) == DelayFirstByte(2.5)
    assert fault(CutAfter(0)) == CutAfter(0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("429", "takes FailWith, CutAfter or DelayFirstByte objects or dicts"),
        ({"times": 2}, "must have exactly one of ['cut_after', 'delay', 'status']"),
        ({"status": 429, "delay": 1}, "must have exactly one of"),
        ({"status": 429, "retry_after": 0}, "unknown keys ['retry_after']; a 'status' fault takes"),
        ({"cut_after": 3, "headers": {}}, "unknown keys ['headers']"),
        ({"status": 200}, "FailWith: status 200 is not an HTTP error status (400-599)"),
        ({"status": "429"}, "FailWith: status '429' is not an integer"),
        ({"status": 429, "headers": {"retry-after": 0}}, "is not a mapping of strings to strings"),
        ({"status": 500, "times": 0}, "FailWith: times 0 is not a whole number >= 1"),
        ({"cut_after": -1}, "CutAfter: events -1 is not a whole number >= 0"),
        ({"cut_after": 1.5}, "CutAfter: events 1.5 is not a whole number"),
        ({"delay": "soon"}, "DelayFirstByte: seconds 'soon' is not a number"),
        ({"delay": float("inf")}, "DelayFirstByte: seconds inf is not a finite number"),
        ({"delay": 1, "endpoint": "chat"}, "endpoint 'chat' is not a path"),
    ],
)
def test_bad_faults_are_clear_errors(value: object, message: str) -> None:
    with pytest.raises(LLMReplayError) as caught:
        fault(value)
    assert str(caught.value).startswith("pytest-llm-playback: ")
    assert message in str(caught.value)


def test_descriptions_name_what_was_injected() -> None:
    assert describe(FailWith(429, {"retry-after": "0"})) == "HTTP 429, retry-after: 0"
    assert describe(CutAfter(3)) == "stream cut after event 3"
    assert describe(DelayFirstByte(2.5)) == "first byte delayed 2.5 s"


def test_default_error_bodies_have_each_apis_shape() -> None:
    openai_body = json.loads(error_body(FailWith(429), "/v1/chat/completions"))
    assert openai_body["error"]["code"] == 429
    assert openai_body["error"]["message"].startswith("Too Many Requests")
    anthropic_body = json.loads(error_body(FailWith(529), "/v1/messages"))
    assert anthropic_body["type"] == "error"
    assert anthropic_body["error"]["type"] == "overloaded_error"
    assert error_body(FailWith(500, body={"detail": "boom"}), "/v1/x") == b'{"detail": "boom"}'
    assert error_body(FailWith(502, body="bad gateway"), "/v1/x") == b"bad gateway"
