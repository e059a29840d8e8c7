"""llama-stack recorder files turned into recordings (``replay.importers.llama_stack``), without the
command line."""

from __future__ import annotations

from typing import Any

import pytest

from replay.importers.llama_stack import NotImportable, from_llama_stack, sdk_body

CHAT = "/v1/chat/completions"


@pytest.mark.parametrize(
    "response",
    [
        {"is_exception": True, "body": {"type": "RateLimitError", "message": "slow down"}},
        {"body": {"__exception__": {"type": "RateLimitError", "message": "slow down"}}},
        {"body": {"exception_type": "RateLimitError", "message": "slow down"}},
    ],
)
def test_recorded_exceptions_in_their_several_shapes_are_not_imported(
    response: dict[str, Any],
) -> None:
    request = {"method": "POST", "url": "http://h/v1/chat/completions", "body": {"model": "m"}}
    with pytest.raises(
        NotImportable, match=r"a recorded exception with no HTTP status \(RateLimitError: slow down"
    ):
        from_llama_stack({"request": request, "response": response | {"is_streaming": False}}, "f")


def test_the_body_is_what_the_sdk_sends_for_the_recorded_arguments() -> None:
    recorded = {"model": "m", "input": "hi", "extra_body": {"truncate": True}, "timeout": 5}
    assert sdk_body(recorded, "/v1/embeddings") == {
        "model": "m", "input": "hi", "truncate": True, "encoding_format": "base64"
    }  # fmt: skip
    chat = {"model": "m", "messages": [], "extra_headers": {"x": "y"}}
    assert sdk_body(chat, CHAT) == {"model": "m", "messages": []}
