"""replay.core.jsonfast reads and writes exactly what the standard library's json does, with or
without orjson: the request hash, the replayed bytes and the file text must not depend on
whether orjson is installed."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.core import jsonfast

# Any character, lone surrogates included (json reads "\ud800" into one; orjson refuses it).
CHARACTERS = st.characters() | st.characters(categories=["Cs"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e-3, max_value=1e-3)  # where orjson and json write floats apart
    | st.text(CHARACTERS, max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(CHARACTERS, max_size=6), children, max_size=4)
    ),
    max_leaves=24,
)


@pytest.fixture(params=["orjson", "json only"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with orjson and as if it were not installed."""
    if request.param == "json only":
        monkeypatch.setattr(jsonfast, "orjson", None)
    yield request.param


def same(a: Any, b: Any) -> bool:
    """Equal values, NaN and -0.0 included: compared as json writes them."""
    return json.dumps(a) == json.dumps(b)


def json_text(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


@settings(max_examples=400, deadline=None)
@given(value=VALUES, ascii_only=st.booleans())
def test_parse_reads_what_json_reads(value: Any, ascii_only: bool) -> None:
    text = json_text(value, ascii_only)
    given_ = [text] + ([text.encode()] if _utf8_encodable(text) else [])
    for use_orjson in (True, False):
        with orjson_installed(use_orjson):
            for each in given_:
                parsed, writer = jsonfast.parse(each)
                assert same(parsed, json.loads(each))
                assert writer is jsonfast.EXACT or use_orjson


@settings(max_examples=400, deadline=None)
@given(value=VALUES, ascii_only=st.booleans())
def test_writers_write_what_json_writes(value: Any, ascii_only: bool) -> None:
    """Whatever was read, plain or not, the text is json's (a lone surrogate fails as it
    fails with json: it has no UTF-8)."""
    parsed, given_writer = jsonfast.parse(json_text(value, ascii_only))
    compact = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
    in_order = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for writer in {given_writer, jsonfast.EXACT}:
        assert_writes(partial(writer.compact, parsed), compact)
        assert_writes(partial(writer.sorted_compact, parsed), in_order)
        assert writer.pretty(parsed) == json.dumps(parsed, indent=2, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(
    value=VALUES,
    cut=st.integers(min_value=0, max_value=200),
    junk=st.sampled_from(["", ",", "]", "}", '"', "\\", "\x00", "NaN", "1e999", "\ufeff", " "]),
)
def test_text_that_is_not_json_fails_as_json_fails(value: Any, cut: int, junk: str) -> None:
    """orjson accepts nothing that json refuses, and json's error is the one raised."""
    text = json.dumps(value)
    broken = text[:cut] + junk + text[cut + 1 :]
    try:
        expected: Any = json.loads(broken)
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)) as raised:
            jsonfast.parse(broken)
        assert str(raised.value) == str(error)
    else:
        assert same(jsonfast.loads(broken), expected)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param(b"[18446744073709551616]", [2**64], id="beyond-64-bits"),
        pytest.param(b"[-9223372036854775809]", [-(2**63) - 1], id="below-64-bits"),
        pytest.param(
            b'{"a": NaN, "b": -Infinity}', {"a": float("nan"), "b": -float("inf")}, id="nan"
        ),
        pytest.param(b'"\\ud800"', "\ud800", id="lone-surrogate"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', {"a": 1}, id="utf8-bom"),
        pytest.param('{"a": "é"}'.encode("utf-16"), {"a": "é"}, id="utf-16"),
        pytest.param(b'{"a": 1, "a": 2}', {"a": 2}, id="duplicate-key"),
    ],
)
def test_what_orjson_reads_otherwise_is_read_as_json_reads_it(
    codec: str, text: bytes, value: Any
) -> None:
    parsed, writer = jsonfast.parse(text)
    assert same(parsed, value)
    assert same(parsed, json.loads(text))
    plain = writer is jsonfast.FAST and jsonfast.orjson is not None
    assert plain is (jsonfast.orjson is not None and text == b'{"a": 1, "a": 2}')


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"logprob": -1.2e-05}, id="small-float"),
        pytest.param([0.00001, 1e16, 1e-7, 5e-324, -0.0, 2.0, 0.1], id="floats"),
        pytest.param({"deep": json.loads("[" * 300 + "]" * 300)}, id="deeper-than-orjson-writes"),
    ],
)
def test_floats_and_depth_are_written_as_json_writes_them(codec: str, value: Any) -> None:
    parsed, writer = jsonfast.parse(json.dumps(value))
    assert writer.compact(parsed) == json.dumps(
        value, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert writer.pretty(parsed) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("1234567890123456789", True),
        ('{"n": -1234567890123456789}', True),
        ("[1, 12345678901234567890]", True),
        ('{"id": "order 12345678901234567890"}', True),  # in a string: read by json, no harm
        ('{"id": "call_12345678901234567890"}', False),  # inside a word: not a number
        ("[123456789012345678]", False),  # 18 digits fit 64 bits
        ("[-0.0012345678901234567, 1.2345678901234567e-5]", False),  # fractions are floats
        ("[1234567890123456789.5]", True),  # a float, but only the fraction is told apart
    ],
)
def test_long_integers_are_told_from_fractions(text: str, flagged: bool) -> None:
    assert jsonfast.may_hold_long_integer(text) is flagged
    assert jsonfast.may_hold_long_integer(text.encode()) is flagged


@pytest.mark.skipif(jsonfast.orjson is None, reason="plain needs orjson")
@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ('{"id": "chatcmpl-4f5e-9453-77fe-05904ba94f64", "p": 0.0001}', True),
        ('{"logprob": -1.5e-05}', False),
        ('{"logprob": -1.5E-5}', False),
        ('{"x": 0.00002}', False),
        ('{"x": [1e-7]}', False),
        ('{"x": 1e+20, "y": 12.5}', True),
        ('{"text": "use 5e-3 as the rate"}', False),  # looks like one: written by json, no harm
    ],
)
def test_plain_leaves_out_text_with_floats_below_1e_4(text: str, plain: bool) -> None:
    assert (jsonfast.parse(text)[1] is jsonfast.FAST) is plain
    assert (jsonfast.parse(text.encode())[1] is jsonfast.FAST) is plain


def test_deep_nesting_fails_as_json_fails(codec: str) -> None:
    with pytest.raises(RecursionError):
        jsonfast.parse("[" * 100_000 + "]" * 100_000)


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="orjson is CPython's")
def test_orjson_is_installed_and_used() -> None:
    """The speed the benchmarks report depends on it: a dependency on CPython."""
    assert jsonfast.orjson is not None
    _, writer = jsonfast.parse(b'{"choices": [{"delta": {"content": "Hi"}}]}')
    assert writer is jsonfast.FAST and jsonfast.FAST is not jsonfast.EXACT


@contextmanager
def orjson_installed(installed: bool) -> Iterator[None]:
    """For hypothesis tests, which cannot take the function-scoped ``codec`` fixture."""
    original = jsonfast.orjson
    jsonfast.orjson = original if installed else None
    try:
        yield
    finally:
        jsonfast.orjson = original


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def assert_writes(write: Callable[[], bytes], json_text_: str) -> None:
    """``write()`` gives json's text as UTF-8, or fails as encoding json's text does."""
    if _utf8_encodable(json_text_):
        assert write() == json_text_.encode("utf-8")
    else:
        with pytest.raises(UnicodeEncodeError):
            write()
