"""Example tests of an LLM application, recorded once against llama.cpp and replayed.

Record:  pytest examples --record       (starts llama.cpp on SmolLM2-135M, writes recordings/)
Replay:  pytest examples                (no server, no model, no network)
"""

import asyncio

MODEL = "smollm2"


def test_joke(llm_replay):
    client = llm_replay.openai()  # openai.OpenAI bound to record or replay
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell me a joke"}],
        stream=True,
        temperature=0,
        max_tokens=32,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text


def test_chat_completion(llm_replay):
    reply = llm_replay.openai().chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        temperature=0,
        max_tokens=24,
    )
    assert "Paris" in reply.choices[0].message.content
    assert reply.usage.completion_tokens <= 24


def test_text_completion_stream(llm_replay):
    stream = llm_replay.openai().completions.create(
        model=MODEL, prompt="The capital of France is", stream=True, temperature=0, max_tokens=8
    )
    assert "Paris" in "".join(chunk.choices[0].text for chunk in stream)


def test_embeddings(llm_replay):
    reply = llm_replay.openai().embeddings.create(model=MODEL, input="pytest-llm-replay")
    assert reply.data[0].embedding


def test_model_list(llm_replay):
    assert [model.id for model in llm_replay.openai().models.list()] == [MODEL]


def test_async_chat(llm_replay):
    async def ask():
        async with llm_replay.async_openai() as client:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "Say hello"}],
                stream=True,
                temperature=0,
                max_tokens=16,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(ask())
