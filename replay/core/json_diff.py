"""A readable difference of two JSON values, for miss messages. Pure; only ever computed on a
miss, never on the hit path. Key-shaped values are masked: the message may reach a CI log."""

from __future__ import annotations

from typing import Any

from replay.core.secret_scan import mask_secrets

_MISSING = object()


def json_diff(old: Any, new: Any, path: str = "") -> list[str]:
    """Lines ``+ path: value`` (added in ``new``), ``- path: value`` (removed) and
    ``~ path: old -> new`` (changed), in key order."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            lines += json_diff(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
        return lines
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        lines = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            lines += json_diff(a, b, f"{path}[{index}]")
        return lines
    where = path or "(whole body)"
    if old is _MISSING:
        return [f"+ {where}: {_short(new)}"]
    if new is _MISSING:
        return [f"- {where}: {_short(old)}"]
    if old == new and type(old) is type(new):
        return []
    return [f"~ {where}: {_short(old)} -> {_short(new)}"]


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _short(value: Any, limit: int = 80) -> str:
    text = mask_secrets(repr(value))  # miss messages end up in CI logs
    return text if len(text) <= limit else text[: limit - 3] + "..."
