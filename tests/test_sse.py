"""Server-sent events: the byte-level parser and the renderer."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.core import sse
from replay.core.sse import SSEEvent, SSEParser

SEEDS = Path(__file__).parent / "seeds"


def feed_all(chunks: list[bytes]) -> tuple[list[SSEEvent], list[SSEEvent]]:
    """The events given by feed() over all chunks, and those given by finish()."""
    parser = SSEParser()
    fed = [event for chunk in chunks for event in parser.feed(chunk)]
    return fed, parser.finish()


def datas(events: list[SSEEvent]) -> list[str]:
    return [event.data for event in events]


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# --- line ends ---------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_ends(eol: bytes) -> None:
    body = b"data: one" + eol + eol + b"data: two" + eol + b"data: 2b" + eol + eol
    assert datas(sse.parse(body)) == ["one", "two\n2b"]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_ends_fed_byte_by_byte(eol: bytes) -> None:
    body = b"data: one" + eol + eol + b"data: two" + eol + eol
    fed, finished = feed_all(bytewise(body))
    assert datas(fed + finished) == ["one", "two"]


def test_mixed_line_ends_in_one_stream() -> None:
    body = b"data: a\r\n\ndata: b\r\rdata: c\n\r\n"
    assert datas(sse.parse(body)) == ["a", "b", "c"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # Were "\r" and "\n" taken as two line ends, the blank line between them would dispatch
    # "a" alone and "b" would be a second event.
    fed, finished = feed_all([b"data: a\r", b"\ndata: b\r\n\r\n"])
    assert datas(fed) == ["a\nb"]
    assert finished == []


def test_events_are_given_as_soon_as_their_blank_line_arrives() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: first\n") == []
    assert parser.pending
    assert datas(parser.feed(b"\ndata: sec")) == ["first"]
    assert parser.feed(b"ond\n") == []
    assert datas(parser.feed(b"\n")) == ["second"]
    assert not parser.pending
    assert parser.finish() == []


# --- fields ------------------------------------------------------------------------------


def test_data_with_and_without_the_space() -> None:
    assert datas(sse.parse(b"data: x\n\n")) == ["x"]
    assert datas(sse.parse(b"data:x\n\n")) == ["x"]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert datas(sse.parse(b"data:  x\n\n")) == [" x"]
    assert datas(sse.parse(b"data:x \n\n")) == ["x "]


def test_empty_data_is_an_event_with_empty_data() -> None:
    assert datas(sse.parse(b"data:\n\n")) == [""]
    assert datas(sse.parse(b"data: \n\n")) == [""]
    assert datas(sse.parse(b"data\n\n")) == [""]  # a field name alone has an empty value


def test_colons_after_the_first_belong_to_the_value() -> None:
    assert datas(sse.parse(b'data: {"a": "b:c"}\n\n')) == ['{"a": "b:c"}']


def test_comments_are_ignored() -> None:
    body = b": keep-alive\n\n:ping\ndata: x\n: between\ndata: y\n\n"
    assert datas(sse.parse(body)) == ["x\ny"]


def test_unknown_fields_are_ignored() -> None:
    assert datas(sse.parse(b"retry: 10\nfoo: bar\ndata: x\n\n")) == ["x"]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert sse.parse(b"\n\n\r\n\r") == []


def test_multi_line_data_is_joined_with_newlines() -> None:
    body = b"data: line one\ndata:\ndata: line three\n\n"
    assert datas(sse.parse(body)) == ["line one\n\nline three"]


def test_event_field() -> None:
    events = sse.parse(b"event: delta\ndata: x\n\ndata: y\n\n")
    assert events == [SSEEvent("x", "delta"), SSEEvent("y", None)]


def test_event_type_without_data_is_dropped_with_it() -> None:
    events = sse.parse(b"event: ping\n\ndata: y\n\n")
    assert events == [SSEEvent("y", None)]


def test_id_field_is_kept_for_later_events() -> None:
    events = sse.parse(b"id: 7\ndata: a\n\ndata: b\n\n")
    assert [(event.data, event.id) for event in events] == [("a", "7"), ("b", "7")]


def test_multi_byte_characters_split_across_chunks() -> None:
    body = "data: grüße 世界 🌍\n\n".encode()
    fed, finished = feed_all(bytewise(body))
    assert datas(fed) == ["grüße 世界 🌍"]
    assert finished == []


def test_a_leading_byte_order_mark_is_ignored() -> None:
    assert datas(sse.parse(b"\xef\xbb\xbfdata: x\n\n")) == ["x"]


# --- the end of the stream ---------------------------------------------------------------


@pytest.mark.parametrize("tail", [b"data: last\n", b"data: last", b"data: last\ndata: more\n"])
def test_unterminated_last_event_is_discarded_by_finish(tail: bytes) -> None:
    parser = SSEParser()
    assert datas(parser.feed(b"data: whole\n\n" + tail)) == ["whole"]
    assert parser.pending
    assert parser.finish() == []
    assert not parser.pending


def test_finish_forgets_a_discarded_event() -> None:
    parser = SSEParser()
    parser.feed(b"data: partial\n")
    parser.finish()
    # The parser starts clean: the discarded line is not joined to the next event.
    assert datas(parser.feed(b"data: next\n\n")) == ["next"]


def test_lone_trailing_cr_is_held_until_the_next_byte() -> None:
    parser = SSEParser()
    # The last "\r" may be the first half of "\r\n", so the blank line is not yet known.
    assert parser.feed(b"data: x\r\r") == []
    assert parser.pending
    assert datas(parser.finish()) == ["x"]
    assert not parser.pending


def test_lone_trailing_cr_followed_by_lf_is_one_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r\r") == []
    assert datas(parser.feed(b"\n")) == ["x"]
    assert parser.finish() == []


def test_lone_trailing_cr_followed_by_another_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r\r") == []
    assert datas(parser.feed(b"data: y\r\r")) == ["x"]
    assert datas(parser.finish()) == ["y"]


def test_lone_trailing_cr_ending_a_data_line_is_not_an_event() -> None:
    # "data: x\r" at the end: the line is complete but no blank line closed the event.
    parser = SSEParser()
    assert parser.feed(b"data: x\r") == []
    assert parser.finish() == []


def test_parse_handles_a_body_ending_in_cr() -> None:
    assert datas(sse.parse(b"data: a\r\rdata: b\r\r")) == ["a", "b"]


# --- render ------------------------------------------------------------------------------


def test_render() -> None:
    assert sse.render("x") == b"data: x\n\n"
    assert sse.render("") == b"data: \n\n"
    assert sse.render("a\nb") == b"data: a\ndata: b\n\n"
    assert sse.render("a\n") == b"data: a\ndata: \n\n"
    assert sse.render("x", event="delta") == b"event: delta\ndata: x\n\n"
    assert sse.render("é") == "data: é\n\n".encode()


def test_seed_stream_events_round_trip() -> None:
    # The seed's SSE lines lost their blank lines when copied; each "data: " line is one event.
    text = (SEEDS / "000_a30d2370a65b8133.txt").read_text(encoding="utf-8")
    lines = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    assert any("รถ" in line for line in lines)  # the mojibake must come back as it is
    body = b"".join(sse.render(line) for line in lines)
    fed, finished = feed_all([body[i : i + 7] for i in range(0, len(body), 7)])
    assert datas(fed) == lines
    assert finished == []


# --- properties --------------------------------------------------------------------------

# Any unicode but "\r" and lone surrogates; "\n" splits data into several data lines. Some
# multi-byte characters are drawn on purpose so that cuts fall inside them often.
_char = st.one_of(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r"),
    st.sampled_from(["\n", "é", "世", "🌍", "\u2028", "\x00", ":", " "]),
)
_data = st.text(_char, max_size=40)
_event_name = st.none() | st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=10
)
_events = st.lists(st.tuples(_data, _event_name), max_size=8)


def _cut(body: bytes, data: st.DataObject) -> list[bytes]:
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=20).map(sorted))
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def _check(
    body: bytes, expected: list[tuple[str, str | None]], data: st.DataObject
) -> list[SSEEvent]:
    fed, finished = feed_all(_cut(body, data))
    got = fed + finished
    assert [(event.data, event.event) for event in got] == expected
    return fed


@settings(max_examples=200, deadline=None)
@given(events=_events, data=st.data())
def test_rendered_events_survive_any_cut(
    events: list[tuple[str, str | None]], data: st.DataObject
) -> None:
    body = b"".join(sse.render(text, event) for text, event in events)
    fed = _check(body, events, data)
    assert len(fed) == len(events)  # a stream that ends with "\n\n" needs no finish()


@settings(max_examples=200, deadline=None)
@given(events=_events, data=st.data())
def test_rendered_events_survive_any_cut_with_crlf(
    events: list[tuple[str, str | None]], data: st.DataObject
) -> None:
    body = b"".join(sse.render(text, event) for text, event in events).replace(b"\n", b"\r\n")
    fed = _check(body, events, data)
    assert len(fed) == len(events)


@settings(max_examples=200, deadline=None)
@given(events=_events, data=st.data())
def test_rendered_events_survive_any_cut_with_cr(
    events: list[tuple[str, str | None]], data: st.DataObject
) -> None:
    body = b"".join(sse.render(text, event) for text, event in events).replace(b"\n", b"\r")
    _check(body, events, data)


_unspaced_line = st.text(_char.filter(lambda c: c != "\n"), max_size=15).filter(
    lambda line: not line.startswith(" ")
)
_unspaced_data = st.lists(_unspaced_line, min_size=1, max_size=3).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_unspaced_data, max_size=8), data=st.data())
def test_data_without_space_survives_any_cut(texts: list[str], data: st.DataObject) -> None:
    body = b"".join(
        "".join(f"data:{line}\n" for line in text.split("\n")).encode() + b"\n" for text in texts
    )
    fed = _check(body, [(text, None) for text in texts], data)
    assert len(fed) == len(texts)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(_data, min_size=1, max_size=6), data=st.data())
def test_no_event_is_held_back(events: list[str], data: st.DataObject) -> None:
    """After each chunk, every event whose blank line has arrived has been given."""
    rendered = [sse.render(text) for text in events]
    ends = []
    total = 0
    for piece in rendered:
        total += len(piece)
        ends.append(total)
    body = b"".join(rendered)
    parser = SSEParser()
    got: list[str] = []
    seen = 0
    for chunk in _cut(body, data):
        seen += len(chunk)
        got += datas(parser.feed(chunk))
        assert got == events[: sum(1 for end in ends if end <= seen)]


# Comment lines: ":" then any text but a line end, with or without the space.
_comment = st.builds(
    lambda space, text: f":{space}{text}\n".encode(),
    st.sampled_from(["", " "]),
    st.text(_char.filter(lambda c: c != "\n"), max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(events=_events, data=st.data())
def test_comment_lines_anywhere_between_lines_change_nothing(
    events: list[tuple[str, str | None]], data: st.DataObject
) -> None:
    body = b"".join(sse.render(text, event) for text, event in events)
    lines = [line + b"\n" for line in body.split(b"\n")[:-1]]  # the data holds no "\r"
    assert b"".join(lines) == body
    comments = data.draw(st.lists(st.tuples(st.integers(0, len(lines)), _comment), max_size=10))
    for position, comment in sorted(comments, key=lambda item: item[0], reverse=True):
        lines.insert(position, comment)
    fed = _check(b"".join(lines), events, data)
    assert len(fed) == len(events)
