"""The request hash: what makes two requests "the same" for replay.

sha256 of canonical JSON of the method, the endpoint path (no scheme, host or port, a doubled
``/v1/v1/`` collapsed, as is ``/v1/v1beta/``), the sorted query and the JSON body with sorted
keys. Pure functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from replay.core import jsonfast
from replay.core.jsonfast import EXACT, JsonWriter

_DOUBLED_VERSION = re.compile(r"/(v\d+)(?:/\1)+(?=/|$)")
# A base URL's version before an API's own pre-release version (google-genai pointed at
# ``.../v1`` sends ``/v1/v1beta/models/...``): the API's is the one that names the endpoint.
_VERSION_BEFORE_PRERELEASE = re.compile(r"/v\d+(?=/v\d+(?:alpha|beta)\d*(?:/|$))")


@lru_cache(maxsize=4096)
def normalize_endpoint(url_or_path: str) -> str:
    """The path of a URL with scheme, host, port and query removed, ``/v1/v1`` collapsed and
    the ``/v1`` of ``/v1/v1beta`` dropped."""
    if url_or_path.startswith("/"):  # a path: "//v1" is not a host here
        path = url_or_path.split("?", 1)[0].split("#", 1)[0]
    else:
        path = urlsplit(url_or_path).path or "/"
    path = re.sub(r"/{2,}", "/", path)
    path = _VERSION_BEFORE_PRERELEASE.sub("", path)
    return _DOUBLED_VERSION.sub(r"/\1", path)


def canonical(value: Any) -> Any:
    """A JSON value in canonical form: integral floats as ints (``0`` and ``0.0`` match)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, unicode kept."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(value: Any, writer: JsonWriter = EXACT) -> bytes:
    """``canonical_json(value)`` as UTF-8. For a plain value (``writer`` is ``jsonfast.FAST``)
    that holds no float, canonical form changes nothing, and the sorted text comes from
    orjson."""
    if writer is not EXACT:
        text = writer.sorted_compact(value)
        if not jsonfast.may_hold_float(text):
            return text
    return canonical_json(value).encode("utf-8")


def parse_body(content: bytes) -> tuple[Any, JsonWriter]:
    """The request body as JSON when it is JSON, else as text (None when empty); and the
    writer that writes it exactly (``jsonfast.parse``)."""
    if not content:
        return None, jsonfast.FAST
    try:
        return jsonfast.parse(content)
    except ValueError:
        return content.decode("utf-8", errors="replace"), EXACT


def request_key(
    method: str, endpoint: str, query: str, body: Any, writer: JsonWriter = EXACT
) -> str:
    """The sha256 hex digest that names a request's recordings. ``writer``: the one that
    writes the body exactly (``jsonfast.parse``), which only makes the hash quicker."""
    canonical_request = {
        "method": method.upper(),
        "endpoint": normalize_endpoint(endpoint),
        "query": sorted(parse_qsl(query, keep_blank_values=True)),
        "body": body,
    }
    return hashlib.sha256(canonical_bytes(canonical_request, writer)).hexdigest()


DROP = object()


def rewrite_at(value: Any, path: str, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with the field at a dotted ``path`` replaced by ``leaf(old)`` (removed when
    that is ``DROP``). A path goes through lists element by element: ``messages.name``."""
    return _rewrite(value, path.split("."), leaf)


def _rewrite(value: Any, parts: list[str], leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, list):
        return [_rewrite(item, parts, leaf) for item in value]
    if not isinstance(value, dict) or parts[0] not in value:
        return value
    head, rest = parts[0], parts[1:]
    new = _rewrite(value[head], rest, leaf) if rest else leaf(value[head])
    return {
        key: (new if key == head else old)
        for key, old in value.items()
        if key != head or new is not DROP
    }


def without_fields(body: Any, paths: Sequence[str]) -> Any:
    """``body`` without the fields at ``paths``: what the request hash ignores."""
    for path in paths:
        body = rewrite_at(body, path, lambda _: DROP)
    return body
