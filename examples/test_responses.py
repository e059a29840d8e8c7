"""The OpenAI Responses API, recorded from llama.cpp's own server and replayed.

``pytest examples --record`` starts llama.cpp's native server (xllamacpp) on the first request
to ``/v1/responses``; ``pytest examples`` replays with no server.
"""

MODEL = "smollm2"


def test_response(llm_replay):
    response = llm_replay.openai().responses.create(
        model=MODEL, input="What is the capital of France?", max_output_tokens=24, temperature=0
    )
    assert response.output_text  # SmolLM2-135M knows little: it answers, if not well
    assert response.status == "completed"


def test_streamed_response(llm_replay):
    stream = llm_replay.openai().responses.create(
        model=MODEL, input="Tell me a joke", max_output_tokens=32, temperature=0, stream=True
    )
    events = list(stream)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert text and events[-1].response.output_text == text


def test_input_tokens(llm_replay):
    count = llm_replay.openai().responses.input_tokens.count(model=MODEL, input="Tell me a joke")
    assert count.input_tokens > 0
