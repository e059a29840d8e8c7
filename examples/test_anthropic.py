"""The Anthropic Messages API, recorded from llama.cpp's own server and replayed.

``pytest examples --record`` starts llama-cpp-python's server and, on the first request to
``/v1/messages``, llama.cpp's native server (xllamacpp) on the same model; ``pytest
examples`` replays with no server. Needs ``pip install 'pytest-llm-playback[anthropic]'``.
"""

import asyncio

import anthropic
import pytest

MODEL = "smollm2"
# This anthropic SDK has no temperature argument; llama.cpp reads it from the body. At 0 the
# answers, and so the recordings, stay the same from one recording run to the next.
GREEDY = {"temperature": 0}


def test_message(llm_replay):
    client = llm_replay.anthropic()  # anthropic.Anthropic bound to record or replay
    message = client.messages.create(
        model=MODEL,
        max_tokens=24,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        extra_body=GREEDY,
    )
    # A 135M model knows little geography: the text is whatever it said, kept as it came.
    assert message.content[0].text
    assert message.stop_reason in ("end_turn", "max_tokens")


def test_streamed_message(llm_replay):
    with llm_replay.anthropic().messages.stream(
        model=MODEL,
        max_tokens=32,
        messages=[{"role": "user", "content": "Tell me a joke"}],
        extra_body=GREEDY,
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text
    assert final.usage.output_tokens > 0


def test_async_streamed_message(llm_replay):
    async def ask():
        async with (
            llm_replay.async_anthropic() as client,
            client.messages.stream(
                model=MODEL,
                max_tokens=16,
                messages=[{"role": "user", "content": "Say hello"}],
                extra_body=GREEDY,
            ) as stream,
        ):
            return "".join([piece async for piece in stream.text_stream])

    assert asyncio.run(ask())


@pytest.mark.llm_replay
def test_app_that_builds_its_own_client():
    # ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY point the SDK's defaults at the plugin.
    client = anthropic.Anthropic()
    count = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a joke"}]
    )
    assert count.input_tokens > 0
