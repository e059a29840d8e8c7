"""What is left out of recordings: header names, and body fields replaced by a placeholder.

A redacted body field is replaced before the request is hashed as well as before it is
written, so that a request whose secret differs between machines still finds its recording.
Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from replay.keys import rewrite_at
from replay.secrets import compile_patterns

REDACTED = "<redacted>"


@dataclass(frozen=True)
class Redaction:
    """The user's redaction settings (ini ``llm_replay_redact_headers``,
    ``llm_replay_redact_body``, ``llm_replay_secret_patterns``)."""

    headers: frozenset[str] = frozenset()
    body_fields: tuple[str, ...] = ()
    secret_patterns: tuple[str, ...] = ()
    compiled: list[tuple[str, re.Pattern[str]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", frozenset(name.lower() for name in self.headers))
        object.__setattr__(self, "compiled", compile_patterns(self.secret_patterns))

    def body(self, body: Any) -> Any:
        """``body`` with every field at a redacted dotted path replaced by ``<redacted>``;
        a path goes through lists element by element (``messages.content``)."""
        for path in self.body_fields:
            body = rewrite_at(body, path, lambda _: REDACTED)
        return body

    def keep_header(self, name: str) -> bool:
        """Whether a request header may be written."""
        return name.lower() not in self.headers
