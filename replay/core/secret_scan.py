"""Key-shaped strings, looked for in every recording's text before it is written, and masked in
every message the library prints. Pure.

The text is searched as it is and as it reads once decoded: percent-encoding (``sk%2Dproj``)
and ``\\u`` escapes (``\\u0073k-``, as they stay in a body that is not JSON). A stream is also
searched as it reads reassembled: a key the server sends across deltas (``"sk-pr"``,
``"oj-…"``) is in no single event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any
from urllib.parse import unquote

# Keys start where no letter, digit or underscore precedes them, and hold a digit:
# "task-oriented-dialogue-systems" in a model's answer is not an OpenAI key, while the key in
# "req-sk-proj-…" is one.
_START = r"(?<![A-Za-z0-9_])"
_HAS_DIGIT = r"(?=[A-Za-z0-9_\-]*[0-9])"
BUILTIN_PATTERNS: dict[str, str] = {
    "Anthropic API key": _START + r"sk-ant-" + _HAS_DIGIT + r"[A-Za-z0-9_\-]{20,}",
    "OpenAI API key": _START
    + r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?"
    + _HAS_DIGIT
    + r"[A-Za-z0-9_\-]{20,}",
    "Hugging Face token": _START + r"hf_" + _HAS_DIGIT + r"[A-Za-z0-9]{30,}",
    "bearer token": r"[Bb]earer\s+[A-Za-z0-9._~+/=\-]{16,}",
    "AWS access key id": r"AKIA[0-9A-Z]{16}",
    "Google API key": r"AIza[0-9A-Za-z_\-]{35}",
}


# Text each built-in pattern's match contains: where it is absent, the pattern is not run.
# A pattern that begins with a look-behind tries every position of the text, slowly.
_LITERALS = {
    "Anthropic API key": "sk-ant-",
    "OpenAI API key": "sk-",
    "Hugging Face token": "hf_",
    "bearer token": "earer",
    "AWS access key id": "AKIA",
    "Google API key": "AIza",
}
# A \uXXXX escape, its backslash itself escaped or not (JSON text of a string that held one).
_U_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")

Patterns = list[tuple[str, re.Pattern[str]]]


def compile_patterns(extra: Iterable[str] = ()) -> Patterns:
    """The built-in patterns and the user's (named by their own text)."""
    named = [(name, re.compile(pattern)) for name, pattern in BUILTIN_PATTERNS.items()]
    return named + [(f"pattern {pattern!r}", re.compile(pattern)) for pattern in extra]


@cache
def builtin_patterns() -> Patterns:
    """The built-in patterns, compiled once (for masking where no settings are at hand)."""
    return compile_patterns()


def decoded_views(text: str) -> list[str]:
    """``text``, then the text as it reads with percent-encoding and ``\\u`` escapes undone
    (each only when ``text`` holds one)."""
    views = [text]
    if "%" in text:
        views.append(unquote(text))
    if "\\u" in text:
        views += [_U_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), view) for view in views]
    return views


def find_secrets(text: str, patterns: Patterns) -> list[str]:
    """Where ``text`` holds something key-shaped, as it is or once decoded (``decoded_views``):
    ``line N: <kind> 'sk-ab…'``, masked. Each pattern searches each view once; lines are
    counted only for a pattern that hit."""
    found: list[str] = []
    for view in decoded_views(text):
        for name, pattern in patterns:
            literal = _LITERALS.get(name)
            if (literal is not None and literal not in view) or pattern.search(view) is None:
                continue
            for number, line in enumerate(view.splitlines(), start=1):
                for match in pattern.finditer(line):
                    finding = f"line {number}: {name} {mask(match.group())!r}"
                    if finding not in found:
                        found.append(finding)
    return found


def find_in_stream(events: Iterable[Any], patterns: Patterns) -> list[str]:
    """What is key-shaped in a stream's text reassembled: the strings at one place of every
    event (``choices[0].delta.content``, ``delta.text`` …), joined in event order."""
    found: list[str] = []
    for place, joined in stream_texts(events).items():
        for finding in find_secrets(joined, patterns):
            where = f"the stream's reassembled {place or 'text'}: {finding.split(': ', 1)[1]}"
            if where not in found:
                found.append(where)
    return found


def stream_texts(events: Iterable[Any]) -> dict[str, str]:
    """Per place in an event (a path of keys and list indexes), the strings found there in
    every event, joined in order; only places that held a string more than once."""
    joined: dict[str, list[str]] = {}
    for event in events:
        _collect(event, "", joined)
    return {place: "".join(parts) for place, parts in joined.items() if len(parts) > 1}


def _collect(value: Any, place: str, joined: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        joined.setdefault(place, []).append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, f"{place}.{key}" if place else str(key), joined)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, f"{place}[{index}]", joined)


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, not enough to use it."""
    return secret[:6] + "…" if len(secret) > 8 else "…"


def mask_secrets(text: str, patterns: Patterns | None = None) -> str:
    """``text`` with every key-shaped string masked (``sk-pro…``): for every message printed."""
    for name, pattern in builtin_patterns() if patterns is None else patterns:
        literal = _LITERALS.get(name)
        if literal is not None and literal not in text:
            continue
        text = pattern.sub(lambda match: mask(match.group()), text)
    return text
