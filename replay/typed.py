"""Typed response objects: ``{"__type__": <openai type>, "__data__": <JSON as sent>}``.

``__type__`` names come only from ``ALLOWED_TYPES``: a recording file can name a type, never
make the library import or call anything else. ``__data__`` is kept exactly as the server sent
it; the type is checked (``validate``) when recording and by the verify step, not on replay.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

TYPE_KEY = "__type__"
DATA_KEY = "__data__"

CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
COMPLETION = "openai.types.completion.Completion"
EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
MODEL = "openai.types.model.Model"
MODEL_LIST = "openai.pagination.SyncPage[openai.types.model.Model]"

ALLOWED_TYPES: frozenset[str] = frozenset(
    {CHAT_COMPLETION_CHUNK, CHAT_COMPLETION, COMPLETION, EMBEDDINGS, MODEL, MODEL_LIST}
)

# The openai SDK streams text completions as ``Completion`` objects; servers label them
# "text_completion" (OpenAI, Ollama) or "text_completion.chunk" (vLLM, llama.cpp forks).
_BY_OBJECT = {
    "chat.completion.chunk": CHAT_COMPLETION_CHUNK,
    "chat.completion": CHAT_COMPLETION,
    "text_completion": COMPLETION,
    "text_completion.chunk": COMPLETION,
    "model": MODEL,
}


_OBJECT_ALIASES = {"text_completion.chunk": "text_completion"}


def type_of(data: Any, endpoint: str) -> str | None:
    """The allowlisted type name for a JSON object the server sent, or None if unknown."""
    if not isinstance(data, dict):
        return None
    kind = data.get("object")
    if kind == "list":
        if endpoint.endswith("/embeddings"):
            return EMBEDDINGS
        if endpoint.endswith("/models"):
            return MODEL_LIST
        return None
    return _BY_OBJECT.get(kind) if isinstance(kind, str) else None


def encode(data: Any, endpoint: str) -> Any:
    """The element stored for one JSON value: typed when its type is known, else as it is."""
    name = type_of(data, endpoint)
    if name is None:
        return data
    return {TYPE_KEY: name, DATA_KEY: data}


def is_typed(element: Any) -> bool:
    """Whether a stored element is a ``__type__``/``__data__`` envelope."""
    return isinstance(element, dict) and TYPE_KEY in element


def payload(element: Any) -> Any:
    """The JSON value an element stands for (``__data__`` of a typed one)."""
    if isinstance(element, dict) and TYPE_KEY in element:
        return element[DATA_KEY]
    return element


_ENVELOPE_KEYS = frozenset({TYPE_KEY, DATA_KEY})


def check_envelope(element: dict[str, Any]) -> str | None:
    """What is wrong with a typed envelope's shape, or None. Imports nothing."""
    name = element.get(TYPE_KEY)
    if element.keys() != _ENVELOPE_KEYS:
        return f"a typed element has keys {sorted(element)}, expected __type__ and __data__"
    if not isinstance(name, str) or name not in ALLOWED_TYPES:
        return f"__type__ {name!r} is not an allowed openai type (allowed: {sorted(ALLOWED_TYPES)})"
    if not isinstance(element[DATA_KEY], dict):
        return f"__data__ of {name} is not a JSON object"
    return None


def first_bad_envelope(elements: list[Any]) -> tuple[int, str] | None:
    """The first typed element whose envelope is wrong, with what is wrong. Runs on every
    replayed recording, once per stream event: the usual case is tested inline."""
    for index, element in enumerate(elements):
        if type(element) is not dict or TYPE_KEY not in element:
            continue
        name = element[TYPE_KEY]
        if (
            type(name) is str
            and name in ALLOWED_TYPES
            and len(element) == 2
            and type(element.get(DATA_KEY)) is dict
        ):
            continue
        problem = check_envelope(element)
        if problem is not None:
            return index, problem
    return None


def validate(element: dict[str, Any]) -> str | None:
    """What is wrong with a typed element, checked against the installed openai types."""
    problem = check_envelope(element)
    if problem is not None:
        return problem
    data = element[DATA_KEY]
    label = data.get("object")
    if isinstance(label, str) and label in _OBJECT_ALIASES:
        # A server's variant label of the same shape; the openai SDK reads it all the same.
        data = {**data, "object": _OBJECT_ALIASES[label]}
    try:
        _validator(element[TYPE_KEY])(data)
    except ValueError as error:  # pydantic.ValidationError is a ValueError
        return _describe(element[TYPE_KEY], error)
    return None


def _describe(name: str, error: ValueError) -> str | None:
    """The first real problem of a validation error. A field the server left out or sent as
    null is not one: servers omit fields the types declare (llama.cpp sends models without
    ``created``, streamed completions with ``finish_reason: null``) and the openai SDK reads
    them as absent. A value of the wrong type or shape is."""
    details = getattr(error, "errors", None)
    if details is None:
        return f"__data__ does not validate as {name}: {error}"
    problems = [
        item for item in details() if item["type"] != "missing" and item.get("input") is not None
    ]
    if not problems:
        return None
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top)"
    return (
        f"__data__ does not validate as {name}: {where}: {first['msg']} "
        f"({len(problems)} problem{'s' if len(problems) > 1 else ''})"
    )


def invalid_elements(elements: list[Any]) -> list[tuple[int, str]]:
    """Each typed element that does not validate: its index and what is wrong."""
    found = []
    for index, element in enumerate(elements):
        problem = validate(element) if is_typed(element) else None
        if problem is not None:
            found.append((index, problem))
    return found


@cache
def _validator(name: str) -> Callable[[Any], object]:
    """The validation function of an allowlisted name. Only ever called with allowed names."""
    if name not in ALLOWED_TYPES:  # defence in depth: check_envelope ran before
        raise ValueError(f"{name!r} is not allowed")
    if name == MODEL_LIST:
        model = _openai_class(MODEL)

        from pydantic import BaseModel, ConfigDict

        class ModelList(BaseModel):
            model_config = ConfigDict(extra="allow")
            object: str
            data: list[model]  # type: ignore[valid-type]

        def validate_list(data: Any) -> object:
            if data.get("object") != "list":
                raise ValueError("a model list has object 'list'")
            return ModelList.model_validate(data)

        return validate_list
    return _openai_class(name).model_validate  # type: ignore[no-any-return]


def _openai_class(name: str) -> Any:
    module_name, _, class_name = name.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)
