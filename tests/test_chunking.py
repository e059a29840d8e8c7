"""replay.shaping.chunking: every mode delivers the body in order, cut where the mode says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.errors import LLMReplayError
from replay.shaping.chunking import Chunking, rechunk

# Hand-made events for the cuts a server's own bytes rarely show together: a two-byte and a
# four-byte UTF-8 sequence, and CRLF line ends.
EVENTS = [
    b'data: {"t": "\xc3\xa9"}\r\n\r\n',
    b'data: {"t": "\xf0\x9f\x98\x80"}\r\n\r\n',
    b"data: [DONE]\r\n\r\n",
]
BODY = b"".join(EVENTS)


def test_event_mode_is_one_chunk_per_event() -> None:
    pieces = rechunk(EVENTS, Chunking())
    assert [(piece.data, piece.event) for piece in pieces] == list(
        zip(EVENTS, range(3), strict=True)
    )


def test_bytes_1_is_byte_by_byte_across_utf8_sequences_and_crlf() -> None:
    pieces = rechunk(EVENTS, Chunking.parse("bytes:1"))
    assert [piece.data for piece in pieces] == [BODY[i : i + 1] for i in range(len(BODY))]
    # The cuts fall inside the UTF-8 sequences and between \r and \n.
    assert b"\xc3" in [piece.data for piece in pieces] and b"\r" in [p.data for p in pieces]


def test_bytes_n_cuts_every_n_bytes_and_knows_each_pieces_event() -> None:
    pieces = rechunk(EVENTS, Chunking.parse("bytes:7"))
    assert all(len(piece.data) == 7 for piece in pieces[:-1]) and len(pieces[-1].data) <= 7
    assert b"".join(piece.data for piece in pieces) == BODY
    # A piece is sent with the event its last byte belongs to.
    ends = [len(EVENTS[0]), len(EVENTS[0]) + len(EVENTS[1]), len(BODY)]
    for index, piece in enumerate(pieces):
        last_byte = 7 * index + len(piece.data) - 1
        assert piece.event == next(event for event, end in enumerate(ends) if last_byte < end)


def test_merged_is_the_whole_body_at_the_last_event() -> None:
    [piece] = rechunk(EVENTS, Chunking.parse("merged"))
    assert (piece.data, piece.event) == (BODY, 2)


def test_random_with_a_seed_cuts_the_same_way_every_time() -> None:
    first = rechunk(EVENTS, Chunking.parse("random:42"))
    assert first == rechunk(EVENTS, Chunking.parse("random:42"))
    assert b"".join(piece.data for piece in first) == BODY
    cuts = {
        tuple(len(p.data) for p in rechunk(EVENTS, Chunking("random", seed=s))) for s in range(20)
    }
    assert len(cuts) > 10, "different seeds cut differently"


@given(
    events=st.lists(st.binary(max_size=300), max_size=30),
    mode=st.sampled_from(["event", "merged", "bytes:1", "bytes:3", "bytes:64", "random"]),
    seed=st.integers(0, 2**64),
)
def test_every_mode_delivers_the_same_bytes_in_order(
    events: list[bytes], mode: str, seed: int
) -> None:
    pieces = rechunk(events, Chunking.parse(mode), seed)
    assert b"".join(piece.data for piece in pieces) == b"".join(events)
    assert all(piece.data for piece in pieces)
    assert [piece.event for piece in pieces] == sorted(piece.event for piece in pieces)
    offset = 0
    ends = [sum(len(e) for e in events[: i + 1]) for i in range(len(events))]
    for piece in pieces:
        offset += len(piece.data)
        # the piece's last byte lies in its event
        assert ends[piece.event] >= offset > (ends[piece.event - 1] if piece.event else 0)


@pytest.mark.parametrize(
    "text", ["", "bytes", "bytes:0", "bytes:-1", "bytes:x", "random:", "merged:1", "lines", 3]
)
def test_a_bad_mode_is_a_clear_error(text: object) -> None:
    with pytest.raises(
        LLMReplayError,
        match=r"pytest-llm-playback: chunking .* is not a chunking mode; use \"event\"",
    ):
        Chunking.parse(text)


@pytest.mark.parametrize("text", ["event", "merged", "bytes:5", "random", "random:7"])
def test_a_mode_reads_back_from_its_text(text: str) -> None:
    assert str(Chunking.parse(text)) == text
