"""What the core knows of a request: its description and its hash, worked out once, where
the request enters (the transport), and carried from there. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from replay.core.hashing import normalize_endpoint, parse_body, request_key, without_fields
from replay.core.jsonfast import EXACT, JsonWriter
from replay.core.redaction import REDACTED, Redaction


@dataclass(slots=True)
class RequestInfo:
    """A request as the core sees it: enough to find its recording and to record it."""

    method: str
    url: str
    endpoint: str
    query: str
    body: Any
    key: str
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    redaction: Redaction = field(default_factory=Redaction)
    ignored: tuple[str, ...] = ()
    writer: JsonWriter = EXACT  # the one that writes the body exactly (replay.core.jsonfast)

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The headers without those the user redacts, and those whose name says secret as
        ``<redacted>``; the recording leaves out secret headers and transport noise
        (``Recording``). Worked out only when recording."""
        redaction = self.redaction
        return [
            (name, REDACTED if redaction.is_secret(name) else value)
            for name, value in self.raw_headers
            if redaction.keep_header(name)
        ]


def request_info(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: bytes,
    redaction: Redaction | None = None,
    ignored: tuple[str, ...] = (),
) -> RequestInfo:
    """Hash and describe a request: redacted fields replaced, ignored fields left out of the
    hash (but kept in the recording)."""
    redaction = redaction or Redaction()
    url = redaction.url(url)  # no password, no query parameter named like a secret
    parts = urlsplit(url)
    endpoint = normalize_endpoint(parts.path)
    parsed, writer = parse_body(content)
    body = redaction.body(parsed, content)
    return RequestInfo(
        method=method.upper(),
        url=url,
        endpoint=endpoint,
        query=parts.query,
        body=body,
        key=request_key(method, endpoint, parts.query, without_fields(body, ignored), writer),
        raw_headers=headers,
        redaction=redaction,
        ignored=ignored,
        writer=writer,
    )
