"""Key-shaped strings, looked for in every recording's text before it is written. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Keys start at a word boundary and hold a digit: "task-oriented-dialogue-systems" in a
# model's answer is not an OpenAI key.
_START = r"(?<![A-Za-z0-9_\-])"
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


def compile_patterns(extra: Iterable[str] = ()) -> list[tuple[str, re.Pattern[str]]]:
    """The built-in patterns and the user's (named by their own text)."""
    named = [(name, re.compile(pattern)) for name, pattern in BUILTIN_PATTERNS.items()]
    return named + [(f"pattern {pattern!r}", re.compile(pattern)) for pattern in extra]


def find_secrets(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    """Where ``text`` holds something key-shaped: ``line N: <kind> 'sk-ab…'``, masked.
    Each pattern searches the whole text once; lines are counted only for a pattern that hit."""
    found = []
    for name, pattern in patterns:
        literal = _LITERALS.get(name)
        if (literal is not None and literal not in text) or pattern.search(text) is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in pattern.finditer(line):
                found.append(f"line {number}: {name} {mask(match.group())!r}")
    return found


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, not enough to use it."""
    return secret[:6] + "…" if len(secret) > 8 else "…"
