"""Typed response objects: ``{"__type__": <SDK type>, "__data__": <JSON as sent>}``, and the
name of a server-sent event kept beside them.

``__type__`` names come only from ``ALLOWED_TYPES``: a recording file can name a type, never
make the library import or call anything else. ``__data__`` is kept exactly as the server sent
it; the type is checked (``validate``) when recording and by the verify step, not on replay.

A streamed event that came with an ``event:`` line (Anthropic Messages, OpenAI Responses) keeps
its name in ``__event__`` and its ``id:`` in ``__id__``, in the same object::

    {"__type__": "anthropic.types....RawMessageStopEvent", "__data__": {...},
     "__event__": "message_stop"}
    {"__data__": "text that was not JSON", "__event__": "ping"}

so a llama-stack reader, which looks only at ``__type__`` and ``__data__``, still reads it. An
event without a name is stored as before (typed, plain JSON, or its text).

The types come from the openai SDK and, for the Messages API, the anthropic SDK (an optional
extra): an element whose SDK is not installed is recorded as plain JSON with a note, and
``validate`` says it could not check it rather than failing.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from functools import cache
from typing import Any

TYPE_KEY = "__type__"
DATA_KEY = "__data__"
EVENT_KEY = "__event__"
ID_KEY = "__id__"

CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
COMPLETION = "openai.types.completion.Completion"
EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
MODEL = "openai.types.model.Model"
MODEL_LIST = "openai.pagination.SyncPage[openai.types.model.Model]"

# The Anthropic Messages API (/v1/messages): the whole message, each stream event by its
# ``type``, and the token count of /v1/messages/count_tokens.
ANTHROPIC_MESSAGE = "anthropic.types.message.Message"
ANTHROPIC_TOKEN_COUNT = "anthropic.types.message_tokens_count.MessageTokensCount"
ANTHROPIC_EVENTS = {
    event: f"anthropic.types.raw_{event}_event.Raw{name}Event"
    for event, name in (
        ("message_start", "MessageStart"),
        ("message_delta", "MessageDelta"),
        ("message_stop", "MessageStop"),
        ("content_block_start", "ContentBlockStart"),
        ("content_block_delta", "ContentBlockDelta"),
        ("content_block_stop", "ContentBlockStop"),
    )
}
# The OpenAI Responses API (/v1/responses): the whole response, each stream event by its
# ``type`` (those a text and function-calling server sends), and /v1/responses/input_tokens.
RESPONSE = "openai.types.responses.response.Response"
RESPONSE_INPUT_TOKENS = "openai.types.responses.input_token_count_response.InputTokenCountResponse"
RESPONSES_EVENTS = {
    event: f"openai.types.responses.{module}.{name}"
    for event, module, name in (
        ("response.created", "response_created_event", "ResponseCreatedEvent"),
        ("response.queued", "response_queued_event", "ResponseQueuedEvent"),
        ("response.in_progress", "response_in_progress_event", "ResponseInProgressEvent"),
        ("response.output_item.added", "response_output_item_added_event",
         "ResponseOutputItemAddedEvent"),
        ("response.output_item.done", "response_output_item_done_event",
         "ResponseOutputItemDoneEvent"),
        ("response.content_part.added", "response_content_part_added_event",
         "ResponseContentPartAddedEvent"),
        ("response.content_part.done", "response_content_part_done_event",
         "ResponseContentPartDoneEvent"),
        ("response.output_text.delta", "response_text_delta_event", "ResponseTextDeltaEvent"),
        ("response.output_text.done", "response_text_done_event", "ResponseTextDoneEvent"),
        ("response.refusal.delta", "response_refusal_delta_event", "ResponseRefusalDeltaEvent"),
        ("response.refusal.done", "response_refusal_done_event", "ResponseRefusalDoneEvent"),
        ("response.function_call_arguments.delta",
         "response_function_call_arguments_delta_event",
         "ResponseFunctionCallArgumentsDeltaEvent"),
        ("response.function_call_arguments.done", "response_function_call_arguments_done_event",
         "ResponseFunctionCallArgumentsDoneEvent"),
        ("response.reasoning_text.delta", "response_reasoning_text_delta_event",
         "ResponseReasoningTextDeltaEvent"),
        ("response.reasoning_text.done", "response_reasoning_text_done_event",
         "ResponseReasoningTextDoneEvent"),
        ("response.completed", "response_completed_event", "ResponseCompletedEvent"),
        ("response.failed", "response_failed_event", "ResponseFailedEvent"),
        ("response.incomplete", "response_incomplete_event", "ResponseIncompleteEvent"),
    )
}  # fmt: skip
# The named events that end a stream (the server sends nothing after them, and no
# ``data: [DONE]``): Anthropic's ``message_stop``, the Responses API's last event.
STREAM_END_EVENTS = frozenset(
    {"message_stop", "response.completed", "response.failed", "response.incomplete"}
)

ALLOWED_TYPES: frozenset[str] = frozenset(
    {CHAT_COMPLETION_CHUNK, CHAT_COMPLETION, COMPLETION, EMBEDDINGS, MODEL, MODEL_LIST}
    | {ANTHROPIC_MESSAGE, ANTHROPIC_TOKEN_COUNT, *ANTHROPIC_EVENTS.values()}
    | {RESPONSE, RESPONSE_INPUT_TOKENS, *RESPONSES_EVENTS.values()}
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
    if endpoint.endswith("/messages/count_tokens"):
        return ANTHROPIC_TOKEN_COUNT if "input_tokens" in data else None
    if endpoint.endswith("/messages"):
        kind = data.get("type")
        if kind == "message":
            return ANTHROPIC_MESSAGE
        return ANTHROPIC_EVENTS.get(kind) if isinstance(kind, str) else None
    if endpoint.endswith("/responses/input_tokens"):
        return RESPONSE_INPUT_TOKENS if data.get("object") == "response.input_tokens" else None
    if endpoint.endswith("/responses"):
        kind = data.get("type")
        if isinstance(kind, str):
            return RESPONSES_EVENTS.get(kind)
        return RESPONSE if data.get("object") == "response" else None
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


def named(element: Any, event: str | None, id: str | None = None) -> Any:
    """``element`` with the SSE event name and id it came with (unchanged without them)."""
    if event is None and id is None:
        return element
    kept = dict(element) if is_typed(element) else {DATA_KEY: element}
    if event is not None:
        kept[EVENT_KEY] = event
    if id is not None:
        kept[ID_KEY] = id
    return kept


def event_of(element: Any) -> tuple[str | None, str | None]:
    """The SSE event name and id a stored element came with, or (None, None)."""
    if type(element) is dict and (EVENT_KEY in element or ID_KEY in element):
        return element.get(EVENT_KEY), element.get(ID_KEY)
    return None, None


def is_typed(element: Any) -> bool:
    """Whether a stored element is a ``__type__``/``__data__`` envelope."""
    return isinstance(element, dict) and TYPE_KEY in element


def is_envelope(element: Any) -> bool:
    """Whether a stored element wraps its value: typed, or carrying an event name or id."""
    return isinstance(element, dict) and (
        TYPE_KEY in element or EVENT_KEY in element or ID_KEY in element
    )


def payload(element: Any) -> Any:
    """The JSON value an element stands for (``__data__`` of an envelope)."""
    if isinstance(element, dict) and (
        TYPE_KEY in element or EVENT_KEY in element or ID_KEY in element
    ):
        return element[DATA_KEY]
    return element


_ENVELOPE_KEYS = frozenset({TYPE_KEY, DATA_KEY})
_NAME_KEYS = frozenset({EVENT_KEY, ID_KEY})


def check_envelope(element: dict[str, Any]) -> str | None:
    """What is wrong with an envelope's shape, or None. Imports nothing."""
    for key in _NAME_KEYS & element.keys():
        if not isinstance(element[key], str) or "\n" in element[key] or "\r" in element[key]:
            return f"{key} is {element[key]!r}, expected the one-line text of an SSE field"
    keys = element.keys() - _NAME_KEYS
    if TYPE_KEY not in element:
        if keys != {DATA_KEY}:
            return f"a named event has keys {sorted(element)}, expected __data__ and __event__"
        return None
    name = element.get(TYPE_KEY)
    if keys != _ENVELOPE_KEYS:
        return f"a typed element has keys {sorted(element)}, expected __type__ and __data__"
    if not isinstance(name, str) or name not in ALLOWED_TYPES:
        return f"__type__ {name!r} is not an allowed SDK type (allowed: {sorted(ALLOWED_TYPES)})"
    if not isinstance(element[DATA_KEY], dict):
        return f"__data__ of {name} is not a JSON object"
    return None


def first_bad_envelope(elements: list[Any]) -> tuple[int, str] | None:
    """The first envelope whose shape is wrong, with what is wrong. Runs on every replayed
    recording, once per stream event: the usual cases are tested inline."""
    for index, element in enumerate(elements):
        if type(element) is not dict or not (
            TYPE_KEY in element or EVENT_KEY in element or ID_KEY in element
        ):
            continue
        name = element.get(TYPE_KEY)
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


def sdk_missing(name: str) -> str | None:
    """Why a type cannot be checked here (its SDK is not installed), or None."""
    package = name.partition(".")[0]
    if importlib.util.find_spec(package) is None:
        return f"{package} is not installed (pip install {package}), so {name} is not checked"
    return None


def validate(element: dict[str, Any]) -> str | None:
    """What is wrong with an envelope, its typed value checked against the installed SDK.
    A type whose SDK is not installed is not checked: see ``sdk_missing``."""
    problem = check_envelope(element)
    if problem is not None or TYPE_KEY not in element or sdk_missing(element[TYPE_KEY]):
        return problem
    data = element[DATA_KEY]
    label = data.get("object")
    if isinstance(label, str) and label in _OBJECT_ALIASES:
        # A server's variant label of the same shape; the openai SDK reads it all the same.
        data = {**data, "object": _OBJECT_ALIASES[label]}
    try:
        validator = _validator(element[TYPE_KEY])
    except (ImportError, AttributeError):
        return f"the installed SDK has no {element[TYPE_KEY]}"
    try:
        validator(data)
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
    items = details()
    fitting = _fitting_union_members(items)
    problems = [
        item
        for item in items
        if item["type"] != "missing"
        and item.get("input") is not None
        and not any(item["loc"][: len(at)] == at for at in fitting)
    ]
    if not problems:
        return None
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top)"
    return (
        f"__data__ does not validate as {name}: {where}: {first['msg']} "
        f"({len(problems)} problem{'s' if len(problems) > 1 else ''})"
    )


def _fitting_union_members(items: list[Any]) -> list[tuple[Any, ...]]:
    """The places of unions that one member fits but for absent fields. pydantic reports
    every member's errors at ``<place>.<MemberClass>``: llama.cpp's Responses events send a
    content part ``{"type": "output_text", "text": ""}``, which is an ``output_text`` part
    without ``annotations`` and, to pydantic, also a refusal part with the wrong ``type``."""
    members: dict[tuple[Any, ...], dict[str, bool]] = {}
    for item in items:
        loc = tuple(item["loc"])
        for position, part in enumerate(loc):
            if isinstance(part, str) and part[:1].isupper():  # a member class name
                real = item["type"] != "missing" and item.get("input") is not None
                fits = members.setdefault(loc[:position], {})
                fits[part] = fits.get(part, True) and not real
                break
    return [place for place, fits in members.items() if any(fits.values())]


def invalid_elements(elements: list[Any]) -> list[tuple[int, str]]:
    """Each typed element that does not validate: its index and what is wrong."""
    found = []
    for index, element in enumerate(elements):
        problem = validate(element) if is_envelope(element) else None
        if problem is not None:
            found.append((index, problem))
    return found


@cache
def _validator(name: str) -> Callable[[Any], object]:
    """The validation function of an allowlisted name. Only ever called with allowed names."""
    if name not in ALLOWED_TYPES:  # defence in depth: check_envelope ran before
        raise ValueError(f"{name!r} is not allowed")
    if name == MODEL_LIST:
        model = _sdk_class(MODEL)

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
    return _sdk_class(name).model_validate  # type: ignore[no-any-return]


def _sdk_class(name: str) -> Any:
    module_name, _, class_name = name.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)
