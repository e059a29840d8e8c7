"""Undoing content-encoding for the recorder: gzip and deflate, cut anywhere; the rest is a
problem, never bytes read as text."""

from __future__ import annotations

import gzip
import zlib
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.core.content_decoding import BodyDecoder

BODY = b'data: {"choices": [{"delta": {"content": "Once upon a time"}}]}\n\n' * 20


def deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODED = {
    "gzip": gzip.compress(BODY, mtime=0),
    "x-gzip": gzip.compress(BODY, mtime=0),
    "deflate": zlib.compress(BODY),
    "identity": BODY,
    "": BODY,
    "gzip, gzip": gzip.compress(gzip.compress(BODY, mtime=0), mtime=0),
}


@pytest.mark.parametrize("encoding", ENCODED)
@given(cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=8))
def test_a_body_decodes_whole_however_it_is_cut(encoding: str, cuts: list[int]) -> None:
    wire = ENCODED[encoding]
    points = sorted({0, len(wire), *(cut % (len(wire) + 1) for cut in cuts)})
    decoder = BodyDecoder(encoding)
    out = b"".join(decoder.feed(wire[a:b]) for a, b in pairwise(points))
    assert out + decoder.flush() == BODY
    assert decoder.problem is None


def test_raw_deflate_decodes_as_httpx_reads_it() -> None:
    decoder = BodyDecoder("deflate")
    assert decoder.feed(deflate_raw(BODY)) + decoder.flush() == BODY


@pytest.mark.parametrize(
    ("encoding", "wire", "problem"),
    [
        ("gzip", gzip.compress(BODY, mtime=0)[:40], "ended before its compressed stream did"),
        ("gzip", BODY, "does not decode as such"),
        ("br", b"\x1b\x03", "content-encoding 'br', which the recorder does not decode"),
        ("zstd", b"(\xb5/\xfd", "make the server send it uncompressed"),
    ],
)
def test_a_body_cut_or_not_compressed_is_a_problem(
    encoding: str, wire: bytes, problem: str
) -> None:
    decoder = BodyDecoder(encoding)
    decoder.feed(wire)
    decoder.flush()
    assert decoder.problem is not None and problem in decoder.problem
