"""llama-stack (now OGX) recorder files, converted into recordings of this library. Pure: takes
the parsed JSON of one file and returns the recording of the HTTP exchange it stands for, or
raises NotImportable saying why it cannot become one.

OGX's recorder (``src/ogx/testing/api_recorder.py``) writes several shapes, all read here:

- an SDK call (openai, ollama): ``request.body`` holds the keyword arguments of the call, from
  which the body the SDK sends is rebuilt; ``response.body`` the parsed objects, typed;
- an HTTP call it intercepted itself (``/v1/messages``, Gemini ``interactions``, rerank):
  ``request.payload`` holds the JSON sent, ``response.status`` the status, and a stream's
  ``response.body`` the raw SSE lines (``["event: …", "data: …", ""]``);
- a raised exception: ``response.is_exception`` with ``exception_data`` (its status code and
  body for a provider's HTTP error, which becomes that HTTP answer);
- google-genai calls (``vertexai:///…``), rebuilt by ``replay.importers.google_genai``;
- tool invocations (``request.tool_name``), which are no HTTP exchange with a model server.

Each recording keeps the test it was made by (``test_id``), except model lists, which OGX
shares between tests and merges at replay (``merged_model_list`` does the same).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from replay.core import sse, typed_events
from replay.core.hashing import canonical_json, normalize_endpoint
from replay.core.product import LIBRARY
from replay.core.reassembly import payloads
from replay.core.recording import Recording, from_json
from replay.errors import RecordingFileError
from replay.importers.google_genai import INSTALL, genai_recording, is_genai_call
from replay.importers.not_importable import NotImportable

# Who imported a recording (kept in its "recorded").
IMPORTED_BY = f"llm-playback import-llama-stack ({LIBRARY})"
# Keyword arguments of the SDK's create() that are not body fields.
_CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
# Ollama's native endpoints that its client calls with GET and no body.
_OLLAMA_GETS = frozenset({"/api/ps", "/api/tags", "/api/version"})
# The model-list endpoints OGX keeps outside any test and merges at replay.
_OLLAMA_MODEL_LIST = "/api/tags"
# What the openai and anthropic SDKs make the message of an HTTP error from: the status and
# the Python repr of the JSON body (``_make_status_error_from_response``).
_SDK_ERROR_MESSAGE = re.compile(r"Error code: (\d{3}) - (.*)", re.DOTALL)


@dataclass(slots=True)
class Imported:
    """One file's recording, notes on what was kept as plain JSON, and whether it is a model
    list (shared, merged with the other lists of the same request)."""

    recording: Recording
    notes: list[str] = field(default_factory=list)
    model_list: bool = False


def llama_stack_json(text: str) -> Any:
    """The JSON of a llama-stack file, also when it was copied out of a web page: a header
    before the first line ``{`` and lines holding only ``|`` are dropped."""
    try:
        return json.loads(text)
    except ValueError as error:
        lines = text.splitlines()
        if "{" not in lines:
            raise NotImportable("not JSON", str(error)) from None
        kept = [line for line in lines[lines.index("{") :] if line != "|"]
        try:
            return json.loads("\n".join(kept))
        except ValueError as page_error:
            raise NotImportable("not JSON", f"nor a page copy of JSON ({page_error})") from None


def from_llama_stack(document: Any, source: str) -> Imported:
    """The recording of the HTTP exchange a llama-stack/OGX file stands for. Raises
    NotImportable with the reason, and ImportError when the openai package that checks the
    objects' types is missing."""
    if not isinstance(document, dict):
        raise NotImportable("not a llama-stack recording", "the top level is not an object")
    if "version" in document:
        raise NotImportable(
            "already a pytest-llm-playback recording", "it has a version; copy it instead"
        )
    request, response = document.get("request"), document.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise NotImportable("not a llama-stack recording", "no request and response objects")
    if "tool_name" in request:
        raise NotImportable(
            "a tool invocation, not an HTTP exchange with a model server",
            f"{request.get('provider')}.{request['tool_name']}",
            lost=False,
        )
    test_id: str | None = document["test_id"] if isinstance(document.get("test_id"), str) else None
    if is_genai_call(request):
        recording = _genai_recording(request, response, source)
        recording.test = test_id
        recording.recorded = _recorded(recording)
        return Imported(recording)
    imported = _exchange(request, _answer(response), source)
    recording = imported.recording
    imported.model_list = _is_model_list(recording.endpoint)
    recording.test = None if imported.model_list else test_id
    recording.recorded = _recorded(recording)
    return imported


def _genai_recording(request: dict[str, Any], response: dict[str, Any], source: str) -> Recording:
    """A google-genai call rebuilt by the SDK (``replay.importers.google_genai``), its reasons for
    refusing counted under two: google-genai missing, or a call it cannot rebuild."""
    try:
        return genai_recording(request, response, source)
    except NotImportable as why:
        if INSTALL in str(why):
            reason = "a google-genai call, and google-genai is not installed"
            raise NotImportable(reason, INSTALL) from None
        raise NotImportable("a google-genai call that cannot be rebuilt", str(why)) from None


def _answer(response: dict[str, Any]) -> dict[str, Any]:
    """The response as the server sent it: a recorded HTTP error becomes that error's status
    and body; other recorded exceptions are NotImportable."""
    legacy = _legacy_exception(response)
    if not response.get("is_exception"):
        if legacy is not None:
            raise NotImportable("a recorded exception with no HTTP status", legacy)
        return response
    data = response.get("exception_data")
    if not isinstance(data, dict):
        message = response.get("exception_message") or legacy or "no exception_data"
        raise NotImportable("a recorded exception with no HTTP status", str(message))
    kind = f"{data.get('type', 'exception')}: {data.get('message', '')}"
    if response.get("is_streaming") and response.get("body"):
        raise NotImportable(
            "a stream that ended in an exception", f"{kind}; record it again with pytest --record"
        )
    status = data.get("status_code")
    if data.get("category") != "provider_sdk" or not isinstance(status, int):
        raise NotImportable(
            "a recorded exception that is not an HTTP error",
            f"{kind} (category {data.get('category')!r}: raised in llama-stack, not by a server)",
        )
    body = _error_body(status, data)
    return {"status": status, "body": body, "is_streaming": False, "error": True}


def _error_body(status: int, data: dict[str, Any]) -> Any:
    """The body the server sent with an HTTP error, from what the SDK kept of it: its message
    holds the repr of the parsed JSON (exact), its ``body`` the JSON or the part under
    ``error``, or the text when it was not JSON."""
    message: str = data["message"] if isinstance(data.get("message"), str) else ""
    found = _SDK_ERROR_MESSAGE.fullmatch(message)
    if found is not None and int(found.group(1)) == status:
        try:
            value = ast.literal_eval(found.group(2))  # only literals: never runs code
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = None
        if isinstance(value, dict | list) and _is_json(value):
            return value
    body = data.get("body")
    if isinstance(body, dict):
        return body if "error" in body else {"error": body}
    if isinstance(body, str):
        return body
    return {"error": {"message": message, "type": data.get("type"), "code": status}}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _exchange(request: dict[str, Any], response: dict[str, Any], source: str) -> Imported:
    where = request.get("endpoint") or request.get("url")
    endpoint = normalize_endpoint(where) if isinstance(where, str) else ""
    method = request.get("method") if isinstance(request.get("method"), str) else "POST"
    if "payload" in request:  # an HTTP call OGX intercepted: the JSON as sent
        body = request["payload"]
    else:
        body = request.get("body")
        if isinstance(body, dict):
            body = sdk_body(body, endpoint)
    answer = response.get("body")
    streaming = bool(response.get("is_streaming"))
    if endpoint.startswith("/api/"):
        if streaming:
            raise NotImportable(
                "an Ollama-native stream",
                f"{endpoint} streams NDJSON, which this library does not replay; call Ollama's "
                "OpenAI-compatible /v1 API in the test instead",
            )
        if endpoint in _OLLAMA_GETS:
            method, body = "GET", None
        elif isinstance(body, dict):  # the ollama client leaves unset arguments out
            body = {key: value for key, value in body.items() if value is not None}
        answer = typed_events.payload(answer)
    elif _is_model_list(endpoint) and isinstance(answer, list):
        # llama-stack keeps the models the SDK iterated over; the server sent one list page.
        models = [typed_events.payload(element) for element in answer]
        answer = typed_events.encode({"object": "list", "data": models}, "/v1/models")
        method, body = "GET", None
    elif streaming and isinstance(answer, list) and _are_sse_lines(answer):
        answer = _sse_elements(answer, endpoint)
    document = {
        "request": {
            "method": method,
            "url": request.get("url") or endpoint,
            "headers": request.get("headers") or {},
            "body": body,
            "endpoint": endpoint,
            "model": request.get("model")
            or (body.get("model") if isinstance(body, dict) else None),
        },
        "response": {"body": answer, "is_streaming": streaming},
    }
    try:
        recording = from_json(document, source)
    except RecordingFileError as error:
        raise NotImportable("not a recording this library can read", error.problem) from None
    status = response.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise NotImportable("not a recording this library can read", f"status {status!r}")
    recording.status = status
    if not streaming and isinstance(answer, str):
        recording.content_type = "text/plain; charset=utf-8"
    recording.native = True  # written in this library's format from now on
    notes = [] if response.get("error") else _typed_events(recording)
    return Imported(recording, notes)


def _are_sse_lines(body: list[Any]) -> bool:
    """Whether a stream's body is the raw lines of its SSE (OGX's HTTP interception keeps
    those) rather than one parsed object per event."""
    return (
        bool(body)
        and all(isinstance(line, str) for line in body)
        and any(line.startswith(("data:", "event:")) for line in body)
    )


def _sse_elements(lines: list[str], endpoint: str) -> list[Any]:
    """The stored events of raw SSE lines: each event's data as JSON (typed when its type is
    known) or as its text, with its event name and id."""
    elements = []
    for event in sse.parse("".join(f"{line}\n" for line in lines).encode() + b"\n"):
        try:
            value: Any = json.loads(event.data)
        except ValueError:
            value = event.data
        if not isinstance(value, dict | list):
            value = event.data
        elements.append(
            typed_events.named(typed_events.encode(value, endpoint), event.event, event.id)
        )
    return elements


def sdk_body(body: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The body the openai SDK sends for the keyword arguments llama-stack recorded:
    ``extra_body`` merged in, client-side options left out, and the ``encoding_format``
    that ``embeddings.create`` adds when none is given."""
    sent = {key: value for key, value in body.items() if key not in _CLIENT_OPTIONS}
    if isinstance(body.get("extra_body"), dict):
        sent |= body["extra_body"]
    if endpoint.endswith("/embeddings") and "encoding_format" not in sent:
        sent["encoding_format"] = "base64"
    return sent


def _is_model_list(endpoint: str) -> bool:
    return endpoint.endswith("/models") or endpoint == _OLLAMA_MODEL_LIST


def merged_model_list(lists: list[Recording]) -> Recording:
    """One model list holding every model of ``lists`` (recordings of the same request), by
    id, as OGX merges them at replay; a model two lists describe differently is taken from
    the one whose JSON sorts first, and the request of the list whose URL sorts first, so that
    the result does not depend on their order or on how they were split into batches."""
    first = min(lists, key=lambda recording: (recording.url, canonical_json(recording.headers)))
    models: dict[str, Any] = {}
    for recording in lists:
        listed, key = _models(recording)
        for model in listed:
            name = str(model.get(key)) if isinstance(model, dict) else canonical_json(model)
            held = models.get(name)
            if held is None or canonical_json(model) < canonical_json(held):
                models[name] = model
    ordered = [models[name] for name in sorted(models)]
    value = typed_events.payload(first.events[0])
    value = dict(
        value,
        **({"models": ordered} if first.endpoint == _OLLAMA_MODEL_LIST else {"data": ordered}),
    )
    element = (
        typed_events.encode(value, first.endpoint)
        if typed_events.is_typed(first.events[0])
        else value
    )
    return Recording(
        method=first.method,
        url=first.url,
        endpoint=first.endpoint,
        body=first.body,
        status=first.status,
        content_type=first.content_type,
        is_streaming=False,
        events=[element],
        headers=first.headers,
        model=first.model,
        recorded={key: value for key, value in first.recorded.items() if key != "server"},
        test=None,
    )


def _models(recording: Recording) -> tuple[list[Any], str]:
    """The models a model-list recording holds, and the field that names each."""
    value = typed_events.payload(recording.events[0]) if recording.events else None
    if not isinstance(value, dict):
        return [], "id"
    if recording.endpoint == _OLLAMA_MODEL_LIST:
        listed = value.get("models")
        return (listed if isinstance(listed, list) else []), "model"
    listed = value.get("data")
    return (listed if isinstance(listed, list) else []), "id"


def _recorded(recording: Recording) -> dict[str, Any]:
    """What an imported recording says of where it came from: no file name or time, so that
    importing the same exchange again, or in another batch, writes the same bytes."""
    first = next(payloads(recording.events), {})
    parts = urlsplit(recording.url)
    return {
        "by": "llama-stack recorder",
        "server": f"{parts.scheme}://{parts.netloc}" if parts.netloc else None,
        "server_model": first.get("model") if isinstance(first, dict) else None,
        "imported_by": IMPORTED_BY,
    }


def _legacy_exception(response: dict[str, Any]) -> str | None:
    """What an older llama-stack response that recorded a raised exception without
    ``exception_data`` says, or None."""
    body = response.get("body")
    if "exception" in response:
        return _exception_text(response["exception"])
    for element in body if isinstance(body, list) else [body]:
        if not isinstance(element, dict):
            continue
        for key in ("__exception__", "exception", "exception_type"):
            if key in element:
                return _exception_text(element[key] if key != "exception_type" else element)
        name = element.get(typed_events.TYPE_KEY)
        if isinstance(name, str) and re.search(r"(Error|Exception)$|exceptions?\.", name):
            return _exception_text(element)
    if response.get("is_exception") and body is not None:
        return _exception_text(body)
    return None


def _exception_text(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    data = value.get(typed_events.DATA_KEY, value)
    data = data if isinstance(data, dict) else {"message": data}
    name = value.get(typed_events.TYPE_KEY) or data.get("type") or data.get("exception_type")
    message = data.get("message") or data.get("detail") or data.get("args") or ""
    status = data.get("status_code")
    return ": ".join(
        str(part)
        for part in (name or "exception", f"HTTP {status}" if status else "", message)
        if part
    )


def _typed_events(recording: Recording) -> list[str]:
    """Type plain objects as the recorder does, and keep as plain JSON what does not
    validate against its type; say which."""
    notes = []
    for index, element in enumerate(recording.events):
        event, id = typed_events.event_of(element)
        value = typed_events.payload(element) if not typed_events.is_typed(element) else element
        if not typed_events.is_typed(value):
            value = typed_events.encode(value, recording.endpoint)
            if not typed_events.is_typed(value):
                continue
        problem = typed_events.validate(value)
        if problem is None:
            recording.events[index] = typed_events.named(_bare(value), event, id)
        else:
            recording.events[index] = typed_events.named(typed_events.payload(value), event, id)
            notes.append(f"response.body[{index}] {problem}; kept as plain JSON")
    return notes


def _bare(element: dict[str, Any]) -> dict[str, Any]:
    """A typed element without its event name and id (``typed_events.named`` puts them back)."""
    return {
        typed_events.TYPE_KEY: element[typed_events.TYPE_KEY],
        typed_events.DATA_KEY: element[typed_events.DATA_KEY],
    }
