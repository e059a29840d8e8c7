"""An application that builds its own client, and an error path, recorded and replayed."""

import openai
import pytest
from summarizer import summarize


@pytest.mark.llm_replay  # no fixture argument needed: the app's own client is intercepted
def test_app_builds_its_own_client():
    summary = summarize("The Eiffel Tower is a wrought-iron lattice tower in Paris, France.")
    assert summary.strip()


def test_prompt_longer_than_the_context_is_refused(llm_replay):
    """llama.cpp answers 400; the recording keeps it, and replay raises the same error."""
    client = llm_replay.openai()
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        client.completions.create(model="smollm2", prompt="hello " * 3000, max_tokens=4)
