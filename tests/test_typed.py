"""Typed response elements: the allowlist, the envelope and validation against openai types."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from replay.core import typed_events

SEEDS = Path(__file__).parent / "seeds"
CHAT = "/v1/chat/completions"

CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1716194078,
    "model": "smollm2",
    "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
}
COMPLETION_CHAT = {
    "id": "chatcmpl-2",
    "object": "chat.completion",
    "created": 1716194078,
    "model": "smollm2",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
TEXT_COMPLETION = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1716194078,
    "model": "smollm2",
    "choices": [{"index": 0, "text": "Hi", "finish_reason": None, "logprobs": None}],
}
EMBEDDINGS = {
    "object": "list",
    "model": "smollm2",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
MODELS = {
    "object": "list",
    "data": [{"id": "smollm2", "object": "model", "created": 1716194078, "owned_by": "me"}],
}


def seed_chunks() -> list[dict[str, Any]]:
    """The JSON events of the chat SSE body in seed 001."""
    text = (SEEDS / "001_1cfb8fc5d5cf4d6d.txt").read_text(encoding="utf-8")
    lines = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


def envelope(name: str, data: Any) -> dict[str, Any]:
    return {typed_events.TYPE_KEY: name, typed_events.DATA_KEY: data}


# --- type_of -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "endpoint", "expected"),
    [
        (CHUNK, CHAT, typed_events.CHAT_COMPLETION_CHUNK),
        (COMPLETION_CHAT, CHAT, typed_events.CHAT_COMPLETION),
        (TEXT_COMPLETION, "/v1/completions", typed_events.COMPLETION),
        (
            {**TEXT_COMPLETION, "object": "text_completion.chunk"},
            "/v1/completions",
            typed_events.COMPLETION,
        ),
        (EMBEDDINGS, "/v1/embeddings", typed_events.EMBEDDINGS),
        (MODELS, "/v1/models", typed_events.MODEL_LIST),
        (MODELS["data"][0], "/v1/models/smollm2", typed_events.MODEL),
    ],
)
def test_type_of_known_objects(data: Any, endpoint: str, expected: str) -> None:
    assert typed_events.type_of(data, endpoint) == expected
    assert expected in typed_events.ALLOWED_TYPES


@pytest.mark.parametrize(
    ("data", "endpoint"),
    [
        ({"object": "thread", "id": "t"}, CHAT),
        ({"object": "list", "data": []}, CHAT),  # a list, but not of a known endpoint
        ({"object": 3}, CHAT),
        ({"object": None}, CHAT),
        ({"id": "x"}, CHAT),
        ({}, CHAT),
        ([CHUNK], CHAT),
        ("[DONE]", CHAT),
        (None, CHAT),
        (42, CHAT),
    ],
)
def test_type_of_unknown(data: Any, endpoint: str) -> None:
    assert typed_events.type_of(data, endpoint) is None


def test_type_of_does_not_trust_a_dotted_object_label() -> None:
    assert typed_events.type_of({"object": "os.system"}, CHAT) is None
    assert typed_events.type_of({"object": typed_events.CHAT_COMPLETION_CHUNK}, CHAT) is None


# --- encode / payload --------------------------------------------------------------------


def test_encode_wraps_a_known_object() -> None:
    element = typed_events.encode(CHUNK, CHAT)
    assert element == {"__type__": typed_events.CHAT_COMPLETION_CHUNK, "__data__": CHUNK}
    assert typed_events.is_typed(element)
    assert typed_events.payload(element) == CHUNK


@pytest.mark.parametrize("value", ["[DONE]", {"object": "thread"}, [1, 2], 3, None])
def test_encode_leaves_unknown_values_as_they_are(value: Any) -> None:
    element = typed_events.encode(value, CHAT)
    assert element == value
    assert not typed_events.is_typed(element)
    assert typed_events.payload(element) == value


@pytest.mark.parametrize(
    ("data", "endpoint"),
    [
        (CHUNK, CHAT),
        (COMPLETION_CHAT, CHAT),
        (TEXT_COMPLETION, "/v1/completions"),
        (EMBEDDINGS, "/v1/embeddings"),
        (MODELS, "/v1/models"),
    ],
)
def test_encode_payload_round_trip_keeps_data_exactly(data: Any, endpoint: str) -> None:
    original = copy.deepcopy(data)
    element = typed_events.encode(data, endpoint)
    # What is written to a file and read back is the data the server sent, unchanged.
    reread = json.loads(json.dumps(element))
    assert typed_events.payload(reread) == original
    assert json.dumps(typed_events.payload(reread)) == json.dumps(original)  # key order too
    assert data == original


# --- check_envelope ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(typed_events.ALLOWED_TYPES))
def test_check_envelope_accepts_allowed_names(name: str) -> None:
    assert typed_events.check_envelope(envelope(name, {})) is None


@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "subprocess.Popen",
        "builtins.eval",
        "nonexistent.module.Thing",
        "openai.types.chat.ChatCompletionChunk",  # real class, but not the allowlisted name
        "OPENAI.TYPES.MODEL.MODEL",
        typed_events.MODEL + " ",
        "",
        None,
        3,
        ["os.system"],
    ],
)
def test_check_envelope_rejects_names_outside_the_allowlist(name: Any) -> None:
    problem = typed_events.check_envelope(envelope(name, {}))
    assert problem is not None
    assert repr(name) in problem
    assert "not an allowed" in problem


@pytest.mark.parametrize(
    "element",
    [
        {"__type__": typed_events.MODEL, "__data__": {}, "extra": 1},
        {"__type__": typed_events.MODEL},
        {"__type__": typed_events.MODEL, "data": {}},
    ],
)
def test_check_envelope_rejects_other_keys(element: dict[str, Any]) -> None:
    problem = typed_events.check_envelope(element)
    assert problem is not None
    assert "__type__ and __data__" in problem


@pytest.mark.parametrize("data", [[], "text", 1, None, [CHUNK]])
def test_check_envelope_rejects_data_that_is_not_an_object(data: Any) -> None:
    problem = typed_events.check_envelope(envelope(typed_events.CHAT_COMPLETION_CHUNK, data))
    assert problem is not None
    assert "not a JSON object" in problem


EVIL = "tests_nonexistent_pkg_xyz.Evil"


@pytest.mark.parametrize("check", [typed_events.check_envelope, typed_events.validate])
def test_an_unknown_name_imports_nothing(check: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[str] = []
    real_import_module = importlib.import_module

    def spy(name: str, package: str | None = None) -> Any:
        imported.append(name)
        return real_import_module(name, package)

    monkeypatch.setattr(importlib, "import_module", spy)
    assert check(envelope(EVIL, {"object": "list"})) is not None
    assert check(envelope("os.system", {"object": "list"})) is not None
    assert "tests_nonexistent_pkg_xyz" not in sys.modules
    assert imported == []


def test_validator_refuses_names_outside_the_allowlist_on_its_own() -> None:
    # Defence in depth: the cached import helper checks the allowlist itself.
    with pytest.raises(ValueError, match="not allowed"):
        typed_events._validator(EVIL)
    assert "tests_nonexistent_pkg_xyz" not in sys.modules


# --- validate ----------------------------------------------------------------------------


def test_validate_accepts_the_seed_chat_chunks() -> None:
    chunks = seed_chunks()
    assert len(chunks) == 54
    for chunk in chunks:
        element = typed_events.encode(chunk, CHAT)
        assert element[typed_events.TYPE_KEY] == typed_events.CHAT_COMPLETION_CHUNK
        assert typed_events.validate(element) is None


def test_validate_accepts_the_llama_stack_seed_elements() -> None:
    document = json.loads((SEEDS / "002_1b278b56b763379a.txt").read_text(encoding="utf-8"))
    for element in document["response"]["body"]:
        assert typed_events.validate(element) is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (typed_events.CHAT_COMPLETION_CHUNK, CHUNK),
        (typed_events.CHAT_COMPLETION, COMPLETION_CHAT),
        (typed_events.COMPLETION, TEXT_COMPLETION),
        (typed_events.COMPLETION, {**TEXT_COMPLETION, "object": "text_completion.chunk"}),
        (typed_events.EMBEDDINGS, EMBEDDINGS),
        (typed_events.MODEL_LIST, MODELS),
        (typed_events.MODEL, MODELS["data"][0]),
    ],
)
def test_validate_accepts_well_formed_objects(name: str, data: dict[str, Any]) -> None:
    assert typed_events.validate(envelope(name, data)) is None


def test_validate_does_not_change_the_data() -> None:
    data = {**TEXT_COMPLETION, "object": "text_completion.chunk"}
    element = envelope(typed_events.COMPLETION, data)
    typed_events.validate(element)
    assert element[typed_events.DATA_KEY]["object"] == "text_completion.chunk"


def test_validate_tolerates_a_model_without_created() -> None:
    model = {"id": "smollm2", "object": "model", "owned_by": "llamacpp"}
    assert typed_events.validate(envelope(typed_events.MODEL, model)) is None
    assert (
        typed_events.validate(
            envelope(typed_events.MODEL_LIST, {"object": "list", "data": [model]})
        )
        is None
    )


def test_validate_tolerates_a_null_finish_reason() -> None:
    # A streamed chunk's finish_reason is null until the last one ...
    assert typed_events.validate(envelope(typed_events.CHAT_COMPLETION_CHUNK, CHUNK)) is None
    # ... and some servers send null where the type wants a value.
    choice = {**COMPLETION_CHAT["choices"][0], "finish_reason": None}
    data = {**COMPLETION_CHAT, "choices": [choice]}
    assert typed_events.validate(envelope(typed_events.CHAT_COMPLETION, data)) is None


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        (typed_events.CHAT_COMPLETION_CHUNK, {**CHUNK, "choices": "not a list"}, "choices"),
        (typed_events.CHAT_COMPLETION_CHUNK, {**CHUNK, "created": "yesterday"}, "created"),
        (typed_events.CHAT_COMPLETION, {**COMPLETION_CHAT, "choices": {"0": 1}}, "choices"),
        (typed_events.MODEL, {**MODELS["data"][0], "created": "yesterday"}, "created"),
        (typed_events.EMBEDDINGS, {**EMBEDDINGS, "data": "none"}, "data"),
        (typed_events.CHAT_COMPLETION, CHUNK, "object"),  # a chunk is not a completion
    ],
)
def test_validate_reports_a_wrong_type(name: str, data: dict[str, Any], where: str) -> None:
    problem = typed_events.validate(envelope(name, data))
    assert problem is not None
    assert name in problem
    assert where in problem


def test_validate_reports_a_model_list_without_a_data_array() -> None:
    problem = typed_events.validate(
        envelope(typed_events.MODEL_LIST, {"object": "list", "data": "x"})
    )
    assert problem is not None
    assert typed_events.MODEL_LIST in problem


def test_validate_reports_a_bad_model_in_a_list() -> None:
    good = MODELS["data"][0]
    data = {"object": "list", "data": [good, {**good, "id": 123}]}
    problem = typed_events.validate(envelope(typed_events.MODEL_LIST, data))
    assert problem is not None
    assert "id" in problem


def test_validate_reports_a_bad_model_after_a_model_without_created() -> None:
    first = {"id": "a", "object": "model", "owned_by": "llamacpp"}  # no created: tolerated
    second = {"id": 123, "object": "model", "created": 1, "owned_by": "llamacpp"}
    alone = {"object": "list", "data": [first]}
    assert typed_events.validate(envelope(typed_events.MODEL_LIST, alone)) is None
    data = {"object": "list", "data": [first, second]}
    problem = typed_events.validate(envelope(typed_events.MODEL_LIST, data))
    assert problem is not None and "data.1.id" in problem


def test_validate_reports_envelope_problems_first() -> None:
    problem = typed_events.validate(envelope("builtins.eval", {"object": "list"}))
    assert problem is not None
    assert "not an allowed" in problem
