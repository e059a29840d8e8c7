"""When a response has ended: a stream at its protocol's marker, a body by its framing."""

from __future__ import annotations

import json

import pytest

from replay.core.completeness import complete_at_end, ends_stream, framed


@pytest.mark.parametrize(
    ("data", "ends"),
    [
        ("[DONE]", True),
        ('{"type": "message_stop"}', True),
        ('{"type": "response.completed", "response": {}}', True),
        ('{"type": "response.failed", "response": {}}', True),
        ('{"type": "response.incomplete", "response": {}}', True),
        ('{"type": "response.output_text.delta", "delta": "response.completed"}', False),
        ('{"type": "message_delta"}', False),
        ('{"choices": [{"delta": {"content": "[DONE] message_stop"}}]}', False),
        ("message_stop", False),
        (" [DONE]", False),
    ],
)
def test_a_stream_ends_only_at_its_protocol_marker(data: str, ends: bool) -> None:
    assert ends_stream(data) is ends


def test_framing_comes_from_length_chunking_or_http2() -> None:
    assert framed({"content-length": "12"})
    assert framed({"transfer-encoding": "gzip, Chunked"})
    assert framed({}, b"HTTP/2")
    assert not framed({"connection": "close"}, b"HTTP/1.1")


def test_a_body_ended_by_close_is_whole_only_when_it_can_tell() -> None:
    whole = json.dumps({"object": "chat.completion"}).encode()
    assert complete_at_end(True, True, "text/event-stream", None)
    assert not complete_at_end(False, True, "text/event-stream", None)
    assert complete_at_end(False, False, "application/json", whole)
    assert not complete_at_end(False, False, "application/json; charset=utf-8", whole[:-3])
    assert complete_at_end(False, False, "text/plain", b"cut or not, text cannot tell")
