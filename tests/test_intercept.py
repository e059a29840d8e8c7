"""Interception without code changes: an application that builds its own clients (openai
sync and async, raw httpx and httpx2) is recorded against the real llama.cpp server and
replayed, without being handed a client."""

from __future__ import annotations

import pytest

from replay.engines.llama_cpp_python import LlamaServer
from tests.conftest import BLOCK_NETWORK, recording_files

APP = '''
"""An application that builds its own clients from the environment, as apps do."""
import asyncio
import importlib
import os

import openai

MESSAGES = [{"role": "user", "content": "Name a fruit"}]


def ask():
    client = openai.OpenAI()
    reply = client.chat.completions.create(
        model="smollm2", messages=MESSAGES, temperature=0, max_tokens=12)
    client.close()
    return reply.choices[0].message.content


def ask_streaming_async():
    async def run():
        async with openai.AsyncOpenAI() as client:
            stream = await client.chat.completions.create(
                model="smollm2", messages=MESSAGES, stream=True, temperature=0, max_tokens=12)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    return asyncio.run(run())


def raw(flavour, asynchronous):
    http = importlib.import_module(flavour)
    url = os.environ["OPENAI_BASE_URL"] + "/completions"
    body = {"model": "smollm2", "prompt": f"{flavour} {asynchronous}:", "max_tokens": 4,
            "temperature": 0}
    if not asynchronous:
        with http.Client(timeout=120) as client:
            return client.post(url, json=body).json()["choices"][0]["text"]

    async def run():
        async with http.AsyncClient(timeout=120) as client:
            return (await client.post(url, json=body)).json()["choices"][0]["text"]
    return asyncio.run(run())
'''

TESTS = '''
import http.server
import importlib
import threading

import pytest

import app


def test_sync_client(llm_replay):
    assert app.ask().strip()


def test_async_streaming_client(llm_replay):
    assert app.ask_streaming_async().strip()


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_raw_clients(llm_replay, flavour, asynchronous):
    assert isinstance(app.raw(flavour, asynchronous), str)


@pytest.mark.llm_replay
def test_marker_alone_is_enough():
    assert app.ask().strip()


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello from elsewhere")

    def log_message(self, *args):
        pass


@pytest.fixture
def elsewhere():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_other_hosts_are_untouched(llm_replay, elsewhere, flavour):
    with importlib.import_module(flavour).Client() as client:
        assert client.get(elsewhere).text == "hello from elsewhere"


@pytest.mark.llm_replay(block_other_hosts=True)
@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_other_hosts_can_be_blocked(elsewhere, flavour):
    from replay.errors import LLMReplayError
    with importlib.import_module(flavour).Client() as client:
        with pytest.raises(LLMReplayError, match="blocks other hosts"):
            client.get(elsewhere)


@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
def test_interception_ended_with_the_test(elsewhere, flavour):
    """No fixture here: clients are the library's own again, respx is not active."""
    http = importlib.import_module(flavour)
    assert http.HTTPTransport.handle_request.__module__ == flavour + "._transports.default"
    with http.Client() as client:
        assert client.get(elsewhere).text == "hello from elsewhere"
'''


def test_an_app_building_its_own_clients_records_and_replays(
    pytester: pytest.Pytester, llama_server: LlamaServer
) -> None:
    pytester.makepyfile(app=APP, test_app=TESTS)
    pytester.syspathinsert()
    recorded = pytester.runpytest_subprocess(
        "--record", "--llm-server-url", llama_server.base_url, "-p", "no:cacheprovider"
    )
    recorded.assert_outcomes(passed=13)
    recorded.stdout.fnmatch_lines(["*0 replayed, 7 recorded, 0 missed*"])
    # 7 files: the marker test repeats a request of another test, and each test owns its own
    assert len(recording_files(pytester.path / "recordings")) == 7

    # Replay: no server URL, so the app's OPENAI_BASE_URL is a host that does not exist, and
    # every socket connect fails (but for the tests that talk to a local "other host").
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=13)
    replayed.stdout.fnmatch_lines(["*7 replayed, 0 recorded, 0 missed*"])
    pytester.makeconftest(BLOCK_NETWORK)
    offline = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-k", "not host and not ended"
    )
    offline.assert_outcomes(passed=7, deselected=6)
