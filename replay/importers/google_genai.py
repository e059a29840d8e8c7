"""google-genai calls that OGX (formerly llama-stack) recorded at the SDK level, rebuilt as the
HTTP exchange the google-genai SDK makes with the Gemini Developer API (api-key mode).

OGX keeps the keyword arguments of ``generate_content``, ``generate_content_stream`` or
``embed_content`` and the objects the SDK returned, each ``model_dump(mode="json",
exclude_none=True)``; not the HTTP exchange. The wire format is not guessed here: the SDK is
called with those arguments against a transport that keeps the request it sends (URL and JSON
body, exactly) and answers with the recorded objects in wire form (camelCase, as the API sends
them) rendered as replay renders them. What the SDK parses back must equal what OGX recorded,
field by field, or the file is not importable: so a recording made here replays through the
same SDK to the same objects.

Compared without the fields that are not part of the API's answer:

- ``CLIENT_SIDE``: what the SDK adds itself (the HTTP headers it saw, the history of its
  automatic function calling);
- ``VERTEX_ONLY``: what only Vertex AI sends (OGX records through Vertex AI) and the Gemini
  API does not, so the SDK drops it from a Gemini API answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from replay.core.hashing import (
    canonical,
    normalize_endpoint,
    parse_body,
    rewrite_at,
    without_fields,
)
from replay.core.http_flavours import flavour_module, sdk_flavour
from replay.core.json_diff import json_diff
from replay.core.product import RECORD_HINT
from replay.core.recording import Recording
from replay.importers.not_importable import NotImportable

INSTALL = "pip install google-genai"
# The SDK's own host for the Gemini API: the recording's URL is the one a client built with
# no options sends to. Given explicitly, so that GOOGLE_GEMINI_BASE_URL cannot move it.
GEMINI_API = "https://generativelanguage.googleapis.com/"
# OGX's endpoint: the method of ``client.models`` it stands for, whether it streams, and the
# type of what it returns.
CALLS: dict[str, tuple[str, bool, str]] = {
    "/generate_content": ("generate_content", False, "GenerateContentResponse"),
    "/generate_content_stream": ("generate_content_stream", True, "GenerateContentResponse"),
    "/embed_content": ("embed_content", False, "EmbedContentResponse"),
}
# The keyword arguments of those methods (OGX keeps every one it was given under its name).
_ARGUMENTS = frozenset({"model", "contents", "config"})
# Set by the SDK, not sent by the API: headers of the HTTP response it read, and the turns of
# its automatic function calling. Not in the wire answer; not compared.
CLIENT_SIDE = ("sdk_http_response", "automatic_function_calling_history")
# Sent by Vertex AI only; the SDK's Gemini API parser has no place for them. Dotted paths, as
# ``keys.rewrite_at`` takes them (through lists element by element).
VERTEX_ONLY = ("create_time", "candidates.finish_message", "truncated", "embeddings.statistics")
# Fields the SDK derives from the answer itself (``parsed``: the JSON of a response schema):
# left out of the wire answer, compared as they come back.
_DERIVED = ("parsed",)
_IMPORTED_AS = "the google-genai SDK's HTTP exchange with the Gemini API"


class _Answered(Exception):
    """The SDK's request reached the capturing transport twice: not one exchange."""


def is_genai_call(request: Any) -> bool:
    """Whether an OGX file's request is a google-genai SDK call (``vertexai:///...``), which
    ``genai_recording`` rebuilds, rather than an HTTP exchange of another SDK."""
    if not isinstance(request, dict):
        return False
    url, endpoint = request.get("url"), request.get("endpoint")
    return (isinstance(url, str) and url.startswith("vertexai:")) or endpoint in CALLS


def genai_recording(request: dict[str, Any], response: dict[str, Any], source: str) -> Recording:
    """The recording of the HTTP exchange the google-genai SDK makes (Gemini Developer API,
    api-key mode) for the call an OGX file recorded, its request built by the SDK itself.

    ``request`` and ``response`` are the file's objects of those names; ``source`` names the
    file in messages. ``test`` and ``recorded`` are left for the caller to fill. Raises
    NotImportable with the reason and the fix: google-genai missing, a call or a shape that
    cannot be rebuilt, or an answer that would not replay to the recorded objects."""
    method, streamed, type_name = _call(request)
    arguments = _arguments(request.get("body"))
    objects = _recorded_objects(response, streamed)
    genai, types = _sdk()
    response_type = getattr(types, type_name)
    expected = [_comparable(_without(value, CLIENT_SIDE + VERTEX_ONLY)) for value in objects]
    wire = [_wire(response_type, value, index) for index, value in enumerate(objects)]
    recording, returned = _exchange(genai, types, method, arguments, wire, streamed)
    _check_round_trip(expected, [_comparable(value) for value in returned])
    recording.source = source
    return recording


def _call(request: Any) -> tuple[str, bool, str]:
    if not isinstance(request, dict):
        raise NotImportable("not an OGX google-genai recording (request is not an object)")
    where = request.get("endpoint") or request.get("url")
    endpoint = urlsplit(where).path if isinstance(where, str) else ""
    if endpoint not in CALLS:
        known = ", ".join(sorted(CALLS))
        raise NotImportable(
            f"a google-genai call to {endpoint or where!r}; only {known} are rebuilt as "
            f"HTTP exchanges: record this exchange with {RECORD_HINT}"
        )
    return CALLS[endpoint]


def _arguments(body: Any) -> dict[str, Any]:
    """The keyword arguments of the SDK call, as OGX kept them."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise NotImportable(
            "request.body is not the SDK call's keyword arguments (an object with a model "
            "name); this file was not written by OGX's google-genai recorder"
        )
    unknown = sorted(set(body) - _ARGUMENTS)
    if unknown:
        raise NotImportable(
            f"request.body has {', '.join(map(repr, unknown))}, not keyword arguments of the "
            f"google-genai SDK ({', '.join(sorted(_ARGUMENTS))})"
        )
    if "contents" not in body:
        raise NotImportable("request.body has no contents: the SDK call cannot be made again")
    return dict(body)


def _recorded_objects(response: Any, streamed: bool) -> list[dict[str, Any]]:
    """The response objects OGX recorded: the chunks of a stream, or the one answer."""
    if not isinstance(response, dict):
        raise NotImportable("not an OGX google-genai recording (response is not an object)")
    if response.get("is_exception") or "exception_data" in response:
        raise NotImportable(
            f"a recorded exception ({response.get('exception_message', 'no message')}), not "
            f"an answer; record this exchange with {RECORD_HINT}"
        )
    if response.get("is_streaming") is not streamed:
        kind = "a stream" if streamed else "one answer"
        raise NotImportable(
            f"response.is_streaming is {response.get('is_streaming')!r}, but the call returns "
            f"{kind}; the file was edited or is not OGX's"
        )
    body = response.get("body")
    objects = body if streamed else [body]
    if not isinstance(objects, list) or not objects:
        raise NotImportable("response.body of a streamed call is not a non-empty list of chunks")
    for index, value in enumerate(objects):
        if not isinstance(value, dict):
            raise NotImportable(
                f"response.body[{index}] is not an object (a google-genai response's dump)"
            )
    return objects


def _sdk() -> tuple[Any, Any]:
    try:
        return importlib.import_module("google.genai"), importlib.import_module(
            "google.genai.types"
        )
    except ImportError:
        raise NotImportable(
            f"a google-genai call, rebuilt by the google-genai SDK, which is not installed: "
            f"{INSTALL}"
        ) from None


def _wire(response_type: Any, value: dict[str, Any], index: int) -> dict[str, Any]:
    """A recorded response object as the Gemini API sends it: the SDK's type dumped by its
    aliases (camelCase), without what the SDK adds or derives and what only Vertex AI sends."""
    kept = _without(value, CLIENT_SIDE + VERTEX_ONLY + _DERIVED)
    try:
        parsed = response_type.model_validate(kept)
    except Exception as error:  # pydantic's ValidationError, or the SDK's own checks
        raise NotImportable(
            f"response.body[{index}] is not a google-genai {response_type.__name__}: "
            f"{_first_line(error)}"
        ) from None
    wire: dict[str, Any] = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    # The one field whose API name is not its alias: the Gemini API calls a candidate's
    # citations citationSources (the SDK's _CitationMetadata_from_mldev renames it).
    return rewrite_at(wire, "candidates.citationMetadata", _citation_sources)  # type: ignore[no-any-return]


def _citation_sources(metadata: Any) -> Any:
    if isinstance(metadata, dict) and "citations" in metadata:
        metadata = dict(metadata)
        metadata["citationSources"] = metadata.pop("citations")
    return metadata


def _exchange(
    genai: Any,
    types: Any,
    method: str,
    arguments: dict[str, Any],
    wire: list[dict[str, Any]],
    streamed: bool,
) -> tuple[Recording, list[dict[str, Any]]]:
    """Make the call with the SDK against a transport that keeps its request and answers with
    ``wire`` as replay renders it; the recording, and the objects the SDK returned."""
    made: list[Recording] = []
    http = flavour_module(sdk_flavour("google-genai"))

    def answer(sent: Any) -> Any:
        if made:
            raise _Answered
        body, _ = parse_body(sent.read())
        url = str(sent.url)
        recording = Recording(
            method=sent.method,
            url=url,
            endpoint=normalize_endpoint(url),
            body=body,
            status=200,
            content_type="text/event-stream" if streamed else "application/json",
            is_streaming=streamed,
            events=wire,
            model=arguments["model"],
        )
        made.append(recording)
        return http.Response(
            200,
            content=b"".join(recording.chunks()),
            headers={"content-type": recording.content_type},
        )

    client = genai.Client(
        api_key="llm-playback-no-key",
        vertexai=False,
        http_options=types.HttpOptions(
            base_url=GEMINI_API,
            httpx_client=http.Client(transport=http.MockTransport(answer)),
        ),
    )
    call: Callable[..., Any] = getattr(client.models, method)
    try:
        result = call(**arguments)
        returned = list(result) if streamed else [result]
    except _Answered:
        raise NotImportable(
            f"google-genai made more than one request for {method}; only a call that is one "
            "HTTP exchange is rebuilt"
        ) from None
    except Exception as error:  # whatever the SDK says of arguments it cannot send again
        raise NotImportable(
            f"google-genai cannot make this {method} call again from the recorded arguments: "
            f"{_first_line(error)}"
        ) from None
    finally:
        client.close()
    if not made:
        raise NotImportable(f"google-genai made no HTTP request for {method}")
    dumps = [value.model_dump(mode="json", exclude_none=True) for value in returned]
    return made[0], [_without(value, CLIENT_SIDE) for value in dumps]


def _check_round_trip(expected: list[Any], returned: list[Any]) -> None:
    """The SDK must parse the rebuilt answer back into the recorded objects."""
    if expected == returned:
        return
    if len(expected) != len(returned):
        problem = f"{len(expected)} recorded chunks came back as {len(returned)}"
    else:
        index = next(i for i, (a, b) in enumerate(zip(expected, returned, strict=True)) if a != b)
        lines = json_diff(expected[index], returned[index])[:3]
        problem = f"response.body[{index}] comes back otherwise ({'; '.join(lines)})"
    raise NotImportable(
        f"the rebuilt Gemini API answer does not replay to the recorded objects: {problem}; "
        f"this shape cannot be rebuilt as {_IMPORTED_AS}, record it with {RECORD_HINT}"
    )


def _without(value: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    return without_fields(value, paths)  # type: ignore[no-any-return]


def _comparable(value: Any) -> Any:
    """JSON in canonical form (``0`` and ``0.0`` alike), as the request hash compares."""
    return canonical(value)


def _first_line(error: BaseException) -> str:
    """What an error says, in one line: a pydantic validation error by its first field."""
    errors = getattr(error, "errors", None)
    if callable(errors):  # pydantic's ValidationError: its first line only counts them
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            return f"{where}: {first['msg']} (input {first['input']!r:.60})"
        except (TypeError, KeyError, IndexError):
            pass
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
