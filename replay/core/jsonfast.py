"""JSON reading and writing through orjson where it gives what the standard library gives,
byte for byte and value for value, and through ``json`` everywhere else. Pure.

Why orjson rather than ``json`` alone: replaying a recording is reading a JSON file and
writing each stream event back as compact JSON, and with ``json`` those two steps made
replaying a 1,000-event stream 15 to 25% slower than the openai SDK reading the same bytes
from memory (benchmarks/README.md). orjson reads about 3 times and writes about 8 times as
fast. It is a dependency on CPython; without it (PyPy) everything goes through ``json``.

Where the two differ (tests/test_jsonfast.py pins each): orjson reads an integer beyond 64
bits as a float; refuses NaN, Infinity, lone surrogates, and text that is not UTF-8; writes
NaN as ``null``; and writes floats below 1e-4 otherwise (``0.00001`` where ``json`` writes
``1e-05``; every other float both write alike: the shortest digits that read back). Hence
``parse`` looks at the text once, at C speed, and:

- reads it with ``json`` if it may hold an integer that does not fit 64 bits (a run of 19
  digits that starts a number) or if orjson refuses it, so values and error messages are
  ``json``'s;
- else reads it with orjson, and says the value is *plain* unless the text may hold a float
  below 1e-4 (``0.0000``, or a number with a negative exponent).

A plain value is one that orjson writes exactly as ``json`` does: ``parse`` hands back
``FAST``, the writer that uses orjson, for it, and ``EXACT`` (``json``) for any other. What a
plain value is combined with must be plain too (``also``): strings, integers, and floats
of 1e-4 or more (or zero).
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - PyPy, or installed without its dependencies
    orjson = None  # type: ignore[assignment]


def _byte_class(byte: int) -> int:
    if 0x30 <= byte <= 0x39:
        return ord("1")  # a digit
    if byte in b"eE":
        return ord("e")
    if byte in b".-":
        return byte
    if chr(byte).isalpha() or byte == ord("_") or byte >= 0x80:
        return ord("a")  # part of a word (in a string, so of no interest)
    return ord(" ")  # structure, space, quotes


# Each byte of JSON text as its class: bytes.translate and substring searches run at C speed,
# about 1 ns a byte; a regular expression such as \d{19} takes ten times that.
_CLASSES = bytes(_byte_class(byte) for byte in range(256))
_LONG_RUN = b"1" * 19  # 2**63 has 19 digits
_MANTISSA = frozenset(b"1.")

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class JsonWriter:
    """Writes JSON exactly as the standard library's ``json`` does. ``EXACT`` is one; ``FAST``
    writes the same bytes through orjson, for the values ``parse`` found plain. A value's
    reader hands back the writer that writes it exactly, and whoever holds the value (a
    ``RequestInfo``, a ``Recording``) keeps that writer beside it: no flag to pass around."""

    def compact(self, value: Any) -> bytes:
        """``json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()``."""
        return _COMPACT.encode(value).encode()

    def sorted_compact(self, value: Any) -> bytes:
        """As ``compact``, with the keys of every object sorted."""
        return _SORTED.encode(value).encode()

    def pretty(self, value: Any) -> str:
        """``json.dumps(value, indent=2, ensure_ascii=False)``."""
        return json.dumps(value, indent=2, ensure_ascii=False)

    def also(self, other: JsonWriter) -> JsonWriter:
        """The writer of a value made of one this writes and one ``other`` writes."""
        return self if other is self else EXACT


class _OrjsonWriter(JsonWriter):
    """orjson's bytes for a plain value, which are ``json``'s; ``json`` where orjson cannot
    (nested deeper than it goes)."""

    def compact(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            return super().compact(value)

    def sorted_compact(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            return super().sorted_compact(value)

    def pretty(self, value: Any) -> str:
        """The text orjson gives is looked at once more: this writes files, where what a
        plain value was combined with is least sure."""
        try:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2)
        except orjson.JSONEncodeError:
            return super().pretty(value)
        if _may_hold_small_float(text, text.translate(_CLASSES)):
            return super().pretty(value)
        return text.decode()


EXACT = JsonWriter()
FAST: JsonWriter = _OrjsonWriter() if orjson is not None else EXACT


def parse(text: bytes | str) -> tuple[Any, JsonWriter]:
    """The JSON value of ``text``, and the writer that writes it back exactly: ``FAST`` for a
    plain value (see the module's text), else ``EXACT``. Raises what ``json.loads`` raises
    for text that is not JSON."""
    if orjson is not None:
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        classes = data.translate(_CLASSES)
        if not _may_hold_long_integer(classes):
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError:
                pass  # json decides, with its own message (or reads NaN, BOMs, UTF-16 ...)
            else:
                return value, EXACT if _may_hold_small_float(data, classes) else FAST
    return json.loads(text), EXACT


def loads(text: bytes | str) -> Any:
    """The JSON value of ``text``, exactly as ``json.loads`` reads it."""
    return parse(text)[0]


def may_hold_long_integer(text: bytes | str) -> bool:
    """Whether ``text`` has a run of 19 digits or more that starts a number: an integer that
    may not fit 64 bits (or such digits after a space in a string)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return _may_hold_long_integer(data.translate(_CLASSES))


def may_hold_float(data: bytes) -> bool:
    """Whether JSON text may hold a float: a digit, then a point or an exponent mark (so does
    "v1.5" in a string, which only makes the caller take its slower way)."""
    classes = data.translate(_CLASSES)
    return b"1." in classes or b"1e" in classes


def _may_hold_long_integer(classes: bytes) -> bool:
    return (
        classes.startswith(_LONG_RUN) or b" " + _LONG_RUN in classes or b"-" + _LONG_RUN in classes
    )


def _may_hold_small_float(data: bytes, classes: bytes) -> bool:
    """Whether the text may hold a float below 1e-4: ``0.0000``, or digits (maybe with a
    fraction) that start a number, then an exponent mark and a minus. Digits inside a word,
    such as the hex of "chatcmpl-4f5e-...", do not start a number."""
    if b"0.0000" in data:
        return True
    at = classes.find(b"1e-")
    while at >= 0:
        start = at
        while start > 0 and classes[start - 1] in _MANTISSA:
            start -= 1
        if start == 0 or classes[start - 1] != ord("a"):
            return True
        at = classes.find(b"1e-", at + 3)
    return False
