"""A tiny LLM application: it builds its own openai client from the environment
(OPENAI_BASE_URL, OPENAI_API_KEY), as applications do. Its tests need no change to it."""

import openai


def summarize(text: str) -> str:
    client = openai.OpenAI()
    reply = client.chat.completions.create(
        model="smollm2",
        messages=[
            {"role": "system", "content": "Summarize the user's text in one short sentence."},
            {"role": "user", "content": text},
        ],
        temperature=0,
        max_tokens=40,
    )
    return reply.choices[0].message.content or ""
