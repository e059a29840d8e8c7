"""google-genai calls recorded by OGX (formerly llama-stack), rebuilt as the HTTP exchange the
google-genai SDK makes with the Gemini API, and replayed to the real SDK through the fixture.

The OGX files here are hand-made: small, shaped after OGX's recorder
(``_genai_record_replay`` in ``src/ogx/testing/api_recorder.py``), which keeps the SDK call's
keyword arguments and each returned object's ``model_dump(mode="json", exclude_none=True)``;
OGX records through Vertex AI, so the answers carry its ``create_time``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from typing import Any

import pytest

from replay.core.recording import Recording, loads
from replay.importers import google_genai
from replay.importers.google_genai import genai_recording, is_genai_call
from replay.importers.not_importable import NotImportable
from replay.store.directory import DirectoryStore
from tests.conftest import BLOCK_NETWORK

QUESTION = "What is the capital of France?"
ANSWER = "Paris is the capital of France."
MODEL = "gemini-2.0-flash"
CONFIG = {"temperature": 0.0, "max_output_tokens": 32, "system_instruction": "Answer briefly."}
HEADERS = {
    "content-type": "application/json; charset=UTF-8",
    "server": "scaffolding on HTTPServer2",
}
USAGE = {"prompt_token_count": 9, "candidates_token_count": 7, "total_token_count": 16}


def ogx_request(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"vertexai://{endpoint}",
        "headers": {},
        "body": body,
        "endpoint": endpoint,
        "model": body["model"],
        "provider_metadata": {"provider": "vertexai"},
    }


def chunk(text: str, **more: Any) -> dict[str, Any]:
    candidate = {"content": {"parts": [{"text": text}], "role": "model"}} | more.pop("last", {})
    return {
        "sdk_http_response": {"headers": HEADERS},
        "candidates": [candidate],
        "create_time": "2026-01-05T10:00:00.123456Z",
        "model_version": "gemini-2.0-flash-001",
        "response_id": "k3nTaPGmB8ek1dkP",
    } | more


ARGUMENTS = {"model": MODEL, "contents": QUESTION, "config": CONFIG}
STREAMED = {
    "test_id": "tests/integration/inference/test_genai.py::test_stream[vertexai]",
    "request": ogx_request("/generate_content_stream", ARGUMENTS),
    "response": {
        "body": [
            chunk("Paris is"),
            chunk(" the capital"),
            chunk(" of France.", last={"finish_reason": "STOP"}, usage_metadata=USAGE),
        ],
        "is_streaming": True,
    },
    "id_normalization_mapping": {},
}
ONE = {
    "test_id": "tests/integration/inference/test_genai.py::test_one[vertexai]",
    "request": ogx_request(
        "/generate_content",
        {
            "model": MODEL,
            # a list of Content dumps, as OGX writes typed contents
            "contents": [{"parts": [{"text": QUESTION}], "role": "user"}],
            "config": CONFIG,
        },
    ),
    "response": {
        "body": chunk(ANSWER, last={"finish_reason": "STOP"}, usage_metadata=USAGE)
        | {"automatic_function_calling_history": []},
        "is_streaming": False,
    },
    "id_normalization_mapping": {},
}
EMBEDDED = {
    "request": ogx_request(
        "/embed_content", {"model": "text-embedding-004", "contents": ["Paris", "France"]}
    ),
    "response": {
        "body": {
            "sdk_http_response": {"headers": HEADERS},
            "embeddings": [
                {"values": [0.25, -0.5, 0.125], "statistics": {"token_count": 1.0}},
                {"values": [0.5, 0.75, -0.25], "statistics": {"token_count": 1.0}},
            ],
            "metadata": {"billable_character_count": 11},
        },
        "is_streaming": False,
    },
}


def converted(document: dict[str, Any]) -> Recording:
    return genai_recording(document["request"], document["response"], "hand-made.json")


def test_a_stream_becomes_the_sdks_server_sent_events() -> None:
    recording = converted(STREAMED)
    assert recording.method == "POST"
    assert recording.is_streaming and recording.content_type == "text/event-stream"
    assert recording.url.startswith("https://generativelanguage.googleapis.com/")
    assert recording.url.endswith(f"/models/{MODEL}:streamGenerateContent?alt=sse")
    assert recording.endpoint.endswith(f"/models/{MODEL}:streamGenerateContent")
    # The body the SDK sends: camelCase, contents and system instruction as Content objects.
    assert recording.body == {
        "contents": [{"parts": [{"text": QUESTION}], "role": "user"}],
        "systemInstruction": {"parts": [{"text": "Answer briefly."}], "role": "user"},
        "generationConfig": {"temperature": 0.0, "maxOutputTokens": 32},
    }
    # The answer as the API sends it: no client-side headers, no Vertex-only createTime.
    assert [
        event["candidates"][0]["content"]["parts"][0]["text"] for event in recording.events
    ] == [
        "Paris is",
        " the capital",
        " of France.",
    ]
    last = recording.events[-1]
    assert last["usageMetadata"] == {
        "promptTokenCount": 9,
        "candidatesTokenCount": 7,
        "totalTokenCount": 16,
    }
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert not any(
        "createTime" in event or "sdkHttpResponse" in event for event in recording.events
    )
    assert b"".join(recording.chunks()).count(b"data: {") == 3
    assert recording.recorded == {} and recording.test is None


def test_one_answer_becomes_one_json_body() -> None:
    recording = converted(ONE)
    assert not recording.is_streaming and recording.content_type == "application/json"
    assert recording.endpoint.endswith(f"/models/{MODEL}:generateContent")
    assert "?" not in recording.url
    [answer] = recording.events
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == ANSWER
    assert answer["modelVersion"] == "gemini-2.0-flash-001"
    assert "automaticFunctionCallingHistory" not in answer


def test_embed_content_becomes_the_request_the_sdk_makes() -> None:
    recording = converted(EMBEDDED)
    assert recording.endpoint.endswith("/models/text-embedding-004:batchEmbedContents")
    assert recording.body == {
        "requests": [
            {
                "content": {"parts": [{"text": text}], "role": "user"},
                "model": "models/text-embedding-004",
            }
            for text in ("Paris", "France")
        ]
    }
    assert recording.events == [
        {
            "embeddings": [{"values": [0.25, -0.5, 0.125]}, {"values": [0.5, 0.75, -0.25]}],
            "metadata": {"billableCharacterCount": 11},
        }
    ]


def test_the_endpoint_is_the_one_every_client_form_hashes() -> None:
    # tests/test_providers.py shows the three forms of client give this one endpoint.
    from replay.core.hashing import normalize_endpoint

    endpoint = converted(ONE).endpoint
    assert endpoint in (
        f"/v1/models/{MODEL}:generateContent",
        f"/v1beta/models/{MODEL}:generateContent",
    )
    assert normalize_endpoint("http://127.0.0.1:8080/v1" + endpoint) == endpoint


def test_which_ogx_files_are_google_genai_calls() -> None:
    assert all(is_genai_call(d["request"]) for d in (STREAMED, ONE, EMBEDDED))
    # OGX's OpenAI-compatible calls to Gemini are the openai SDK's exchanges, imported as such.
    openai_compatible = {
        "url": "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
        "endpoint": "/v1/chat/completions",
    }
    assert not is_genai_call(openai_compatible)
    assert not is_genai_call(None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(request=[]), "request is not an object"),
        (lambda d: d["request"].update(url="vertexai:///count_tokens", endpoint=None),
         "a google-genai call to '/count_tokens'; only /embed_content, /generate_content, "
         "/generate_content_stream are rebuilt"),
        (lambda d: d["request"].update(body={"contents": "x"}), "request.body is not the SDK"),
        (lambda d: d["request"]["body"].update(stream=True), "request.body has 'stream'"),
        (lambda d: d["request"]["body"].pop("contents"), "request.body has no contents"),
        (lambda d: d["request"]["body"].update(config={"temperature": "hot"}),
         "google-genai cannot make this generate_content_stream call again"),
        (lambda d: d["response"].update(is_streaming=False), "response.is_streaming is False"),
        (lambda d: d["response"].update(body=[]), "not a non-empty list of chunks"),
        (lambda d: d["response"].update(body=["Paris"]), "response.body[0] is not an object"),
        (lambda d: d["response"]["body"][1].update(candidates=[{"colour": "red"}]),
         "response.body[1] is not a google-genai GenerateContentResponse"),
        (lambda d: d["response"].update(is_exception=True, exception_message="429 quota"),
         "a recorded exception (429 quota)"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_not_importable_and_says_why(change: Any, reason: str) -> None:
    document = copy.deepcopy(STREAMED)
    change(document)
    with pytest.raises(NotImportable) as caught:
        converted(document)
    assert reason in str(caught.value)


def test_an_answer_that_would_not_replay_the_same_is_not_importable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A field the SDK's Gemini API parser has no place for is lost on replay: refused, naming
    # it. create_time is such a field, when it is not dropped as a known Vertex-only one.
    monkeypatch.setattr(google_genai, "VERTEX_ONLY", ("candidates.finish_message",))
    with pytest.raises(NotImportable) as caught:
        converted(ONE)
    message = str(caught.value)
    assert "does not replay to the recorded objects" in message
    assert "response.body[0] comes back otherwise (- create_time: '2026-01-05T10:00:00" in message


def test_without_google_genai_the_reason_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "google.genai", None)  # import fails: ModuleNotFoundError
    with pytest.raises(NotImportable, match="not installed: pip install google-genai"):
        converted(STREAMED)


REPLAYED = f"""
import asyncio
import importlib.util

import pytest

from google.genai import types

QUESTION = {QUESTION!r}
ANSWER = {ANSWER!r}
CONFIG = {CONFIG!r}
ASKED = [types.Content(role="user", parts=[types.Part(text=QUESTION)])]


def test_one(llm_replay):
    client = llm_replay.genai()
    reply = client.models.generate_content(
        model="gemini-2.0-flash", contents=ASKED, config=types.GenerateContentConfig(**CONFIG))
    assert reply.text == ANSWER
    assert reply.usage_metadata.total_token_count == 16


def test_stream(llm_replay):
    client = llm_replay.genai()
    chunks = client.models.generate_content_stream(
        model="gemini-2.0-flash", contents=QUESTION, config=CONFIG)
    assert "".join(chunk.text for chunk in chunks) == ANSWER


def test_one_async(llm_replay):
    async def ask():
        client = llm_replay.genai()
        reply = await client.aio.models.generate_content(
            model="gemini-2.0-flash",
            contents=[{{"role": "user", "parts": [{{"text": QUESTION}}]}}], config=CONFIG)
        return reply.text

    assert asyncio.run(ask()) == ANSWER


def test_stream_async(llm_replay):
    async def ask():
        # http_options of the test's own are kept beside the fixture's
        client = llm_replay.genai(http_options=types.HttpOptions(timeout=60_000))
        stream = await client.aio.models.generate_content_stream(
            model="gemini-2.0-flash", contents=QUESTION, config=CONFIG)
        return "".join([chunk.text async for chunk in stream])

    assert asyncio.run(ask()) == ANSWER


def test_base_url(llm_replay):
    # Pointed at the fixture's base URL, as it is (ending in /v1): the SDK's own client,
    # intercepted.
    from google import genai

    options = types.HttpOptions(base_url=llm_replay.base_url)
    client = genai.Client(api_key="test", http_options=options)
    chunks = client.models.generate_content_stream(
        model="gemini-2.0-flash", contents=QUESTION, config=CONFIG)
    assert "".join(chunk.text for chunk in chunks) == ANSWER


def test_default_host(llm_replay):
    # Built on the SDK's default host: redirected to the test's server, never the network.
    from google import genai

    client = genai.Client(api_key="test")
    reply = client.models.generate_content(
        model="gemini-2.0-flash", contents=ASKED, config=CONFIG)
    assert reply.text == ANSWER


@pytest.mark.skipif(
    importlib.util.find_spec("aiohttp") is not None,
    reason="with aiohttp installed the SDK's own async client uses it, which is not intercepted",
)
def test_default_host_async(llm_replay):
    from google import genai

    async def ask():
        client = genai.Client(api_key="test")
        stream = await client.aio.models.generate_content_stream(
            model="gemini-2.0-flash", contents=QUESTION, config=CONFIG)
        return "".join([chunk.text async for chunk in stream])

    assert asyncio.run(ask()) == ANSWER


def test_embed(llm_replay):
    reply = llm_replay.genai().models.embed_content(
        model="text-embedding-004", contents=["Paris", "France"])
    assert [e.values for e in reply.embeddings] == [[0.25, -0.5, 0.125], [0.5, 0.75, -0.25]]


def test_other_question(llm_replay):
    llm_replay.genai().models.generate_content(
        model="gemini-2.0-flash", contents="What is the capital of Italy?", config=CONFIG)
"""
# Which OGX file each test of REPLAYED replays.
REPLAYS = {
    "test_one": ONE,
    "test_stream": STREAMED,
    "test_one_async": ONE,
    "test_stream_async": STREAMED,
    "test_base_url": STREAMED,
    "test_default_host": ONE,
    "test_default_host_async": STREAMED,
    "test_embed": EMBEDDED,
    "test_other_question": ONE,
}


def test_imported_recordings_replay_to_the_real_sdk(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=REPLAYED, blocknet=BLOCK_NETWORK)
    store = DirectoryStore(pytester.path / "recordings")
    for test, document in REPLAYS.items():
        recording = converted(document)
        recording.test = f"test_app.py::{test}"
        path = store.put(recording, 0).path
        # What was written reads back as the same recording (the file format holds it).
        with open(path, encoding="utf-8") as file:
            assert loads(file.read(), path).events == recording.events

    result = pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider")

    # The replays passing prove that the SDK sent the very request hashed at import.
    aiohttp = importlib.util.find_spec("aiohttp") is not None
    result.assert_outcomes(passed=7 if aiohttp else 8, failed=1, skipped=1 if aiohttp else 0)
    result.stdout.fnmatch_lines(
        [
            "*ReplayMiss: pytest-llm-playback: no recording for POST "
            f"/v1*/models/{MODEL}:generateContent",
            f"*{7 if aiohttp else 8} replayed, 0 recorded, 1 missed*",
        ]
    )
    assert (
        "~ body.contents[0].parts[0].text: 'What is the capital of France?' -> "
        "'What is the capital of Italy?'" in result.stdout.str()
    )


def test_the_recorded_file_is_diffable_json() -> None:
    from replay.core.recording import dumps

    text = dumps(converted(STREAMED))
    assert text.endswith("\n")
    document = json.loads(text)
    assert document["request"]["body"]["contents"][0]["parts"][0]["text"] == QUESTION
    assert len(document["response"]["body"]) == 3
