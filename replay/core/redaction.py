"""What is left out of recordings: header names, and body fields replaced by a placeholder.

A redacted body field is replaced before the request is hashed as well as before it is
written, so that a request whose secret differs between machines still finds its recording.

Besides the fields and headers the user names, values are redacted by the name they are
given, by default: a request header, a query parameter or a body field whose name says key,
token, secret or password (``x-goog-api-key``, ``x-auth-token``, ``?api_key=``,
``?access_token=``, ``"client_secret"``) is written, and hashed, as ``<redacted>``; a body
field only when its value is a string (a tool's JSON schema may have a property named
``password``). ``max_tokens`` says tokens, not token. A name the user lists in
``llm_replay_not_secret`` is kept. The password of a URL (``http://user:PASSWORD@host``) is
never written. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from replay.core.hashing import rewrite_at
from replay.core.secret_scan import compile_patterns

REDACTED = "<redacted>"
# Last words of a name that say the value is a secret, and words that end in such a word.
_SECRET_WORDS = frozenset({"key", "token", "secret", "password", "passwd", "apikey"})
_SECRET_ENDINGS = ("apikey", "secretkey", "accesskey", "privatekey", "token", "secret", "password")
# Names that say key or token but are no secret: OpenAI's cache routing key.
NOT_SECRET = frozenset({"prompt_cache_key", "idempotency-key", "idempotency_key"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# How a secret's name ends in JSON text, lower-cased: a body with none of these (most bodies)
# is not walked. Substring tests: a case-insensitive regular expression took 50 us per KB.
_NAME_ENDINGS = (b'key"', b'token"', b'secret"', b'password"', b'passwd"')


def secret_name(name: str) -> bool:
    """Whether a header, query parameter or field name says its value is a secret."""
    words = _WORDS.findall(name)
    if not words:
        return False
    last = words[-1].lower()
    return last in _SECRET_WORDS or last.endswith(_SECRET_ENDINGS)


@dataclass(frozen=True)
class Redaction:
    """The user's redaction settings (ini ``llm_replay_redact_headers``,
    ``llm_replay_redact_body``, ``llm_replay_secret_patterns``, ``llm_replay_not_secret``)."""

    headers: frozenset[str] = frozenset()
    body_fields: tuple[str, ...] = ()
    secret_patterns: tuple[str, ...] = ()
    not_secret: frozenset[str] = frozenset()
    compiled: list[tuple[str, re.Pattern[str]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", frozenset(name.lower() for name in self.headers))
        kept = frozenset(name.lower() for name in self.not_secret) | NOT_SECRET
        object.__setattr__(self, "not_secret", kept)
        object.__setattr__(self, "compiled", compile_patterns(self.secret_patterns))

    def is_secret(self, name: str) -> bool:
        """Whether a value of this name is redacted by its name."""
        return secret_name(name) and name.lower() not in self.not_secret

    def body(self, body: Any, content: bytes | None = None) -> Any:
        """``body`` with every field at a redacted dotted path replaced by ``<redacted>``;
        a path goes through lists element by element (``messages.content``). Then every
        string field whose name says secret (``content``: the raw body, to skip the walk
        when no name in it could)."""
        for path in self.body_fields:
            body = rewrite_at(body, path, lambda _: REDACTED)
        if content is not None:
            lowered = content.lower()
            if not any(ending in lowered for ending in _NAME_ENDINGS):
                return body
        return self._by_name(body)

    def _by_name(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: REDACTED
                if isinstance(item, str) and item != REDACTED and self.is_secret(str(key))
                else self._by_name(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._by_name(item) for item in value]
        return value

    def url(self, url: str) -> str:
        """``url`` without its user and password, and with every query parameter whose name
        says secret as ``<redacted>`` (the rest of the query kept byte for byte)."""
        if "@" not in url and "?" not in url:  # every replayed request: the usual case quickly
            return url
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pieces = []
            for piece in query.split("&"):
                name = piece.partition("=")[0]
                if self.is_secret(unquote(name.replace("+", " "))):
                    piece = f"{name}={REDACTED}"
                pieces.append(piece)
            query = "&".join(pieces)
        if netloc == parts.netloc and query == parts.query:
            return url
        return urlunsplit(parts._replace(netloc=netloc, query=query))

    def keep_header(self, name: str) -> bool:
        """Whether a request header may be written."""
        return name.lower() not in self.headers
