"""llama-stack recorder files, converted into recordings of this library.

Pure: takes the text or parsed JSON of one llama-stack file and returns the recording of the
request the openai SDK sends (its body rebuilt from the keyword arguments llama-stack kept),
with notes on objects kept as plain JSON; or raises NotImportable saying why the file cannot
become a recording (not JSON, a tool call, a recorded exception, not an OpenAI endpoint).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from replay import typed
from replay.answer import payloads
from replay.errors import NotImportable, RecordingFileError
from replay.keys import normalize_endpoint
from replay.recorder import LIBRARY
from replay.recording import Recording, from_json

# Who imported a recording (kept in its "recorded"), and how to record what cannot be imported.
_IMPORTED_BY = f"llm-playback import-llama-stack ({LIBRARY})"
_RECORD_HINT = "pytest --record-mode=missing"
# Keyword arguments of the SDK's create() that are not body fields.
_CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})


def llama_stack_json(text: str) -> Any:
    """The JSON of a llama-stack file, also when it was copied out of a web page: a header
    before the first line ``{`` and lines holding only ``|`` are dropped."""
    try:
        return json.loads(text)
    except ValueError as error:
        lines = text.splitlines()
        if "{" not in lines:
            raise NotImportable(f"not JSON ({error})") from None
        kept = [line for line in lines[lines.index("{") :] if line != "|"]
        try:
            return json.loads("\n".join(kept))
        except ValueError as page_error:
            raise NotImportable(f"not JSON, nor a page copy of JSON ({page_error})") from None


def from_llama_stack(document: Any, source: str) -> tuple[Recording, list[str]]:
    """A recording of the request the openai SDK sends, from a llama-stack recorder file,
    and notes on objects kept as plain JSON. Raises NotImportable with the reason, and
    ImportError when the openai package that checks the objects' types is missing."""
    if not isinstance(document, dict):
        raise NotImportable("not a llama-stack recording (the top level is not an object)")
    if "version" in document:
        raise NotImportable(
            "already a pytest-llm-playback recording (it has a version); copy it instead"
        )
    request, response = document.get("request"), document.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise NotImportable("not a llama-stack recording (no request and response objects)")
    if "tool_name" in request:
        raise NotImportable(
            f"a llama-stack tool call ({request.get('provider')}.{request['tool_name']}), "
            "not an HTTP exchange"
        )
    exception = recorded_exception(response)
    if exception is not None:
        raise NotImportable(
            f"a recorded exception ({exception}), not a server response; record this "
            f"exchange with {_RECORD_HINT}"
        )
    request, response = dict(request), dict(response)
    where = request.get("endpoint") or request.get("url")
    endpoint = normalize_endpoint(where) if isinstance(where, str) else ""
    if endpoint and not re.match(r"/v\d+/", endpoint):
        raise NotImportable(f"an exchange with {endpoint}, not an OpenAI-compatible endpoint")
    if isinstance(request.get("body"), dict):
        request["body"] = sdk_body(request["body"], endpoint)
    if endpoint.endswith("/models") and isinstance(response.get("body"), list):
        # llama-stack keeps the models the SDK iterated over; the server sent one list page.
        models = [typed.payload(element) for element in response["body"]]
        response["body"] = typed.encode({"object": "list", "data": models}, "/v1/models")
        request["method"], request["body"] = "GET", None
    try:
        recording = from_json({"request": request, "response": response}, source)
    except RecordingFileError as error:
        raise NotImportable(error.problem) from None
    notes = _typed_events(recording)
    first = next(payloads(recording.events), {})
    parts = urlsplit(recording.url)
    recorded = {
        "by": "llama-stack recorder",
        "server": f"{parts.scheme}://{parts.netloc}" if parts.netloc else None,
        "server_model": first.get("model"),
        "imported_by": _IMPORTED_BY,
    }
    if isinstance(document.get("test_id"), str):
        recorded["test_id"] = document["test_id"]
    recording.recorded = recorded
    return recording, notes


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


def recorded_exception(response: dict[str, Any]) -> str | None:
    """What a llama-stack response that recorded a raised exception says, or None."""
    body = response.get("body")
    if response.get("is_exception") or "exception" in response:
        return _exception_text(response.get("exception") or body)
    for element in body if isinstance(body, list) else [body]:
        if not isinstance(element, dict):
            continue
        for key in ("__exception__", "exception", "exception_type"):
            if key in element:
                return _exception_text(element[key] if key != "exception_type" else element)
        name = element.get(typed.TYPE_KEY)
        if isinstance(name, str) and re.search(r"(Error|Exception)$|exceptions?\.", name):
            return _exception_text(element)
    return None


def _exception_text(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    data = value.get(typed.DATA_KEY, value)
    data = data if isinstance(data, dict) else {"message": data}
    name = value.get(typed.TYPE_KEY) or data.get("type") or data.get("exception_type")
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
        if not typed.is_typed(element):
            element = typed.encode(element, recording.endpoint)
            if not typed.is_typed(element):
                continue
        problem = typed.validate(element)
        if problem is None:
            recording.events[index] = element
        else:
            recording.events[index] = typed.payload(element)
            notes.append(f"response.body[{index}] {problem}; kept as plain JSON")
    return notes
