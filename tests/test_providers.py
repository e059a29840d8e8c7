"""Requests to hosted LLM providers never leave the machine while a test records or replays.

The application builds its clients at import time, before any fixture runs, on the SDKs'
default host (api.openai.com) and on other providers' URLs. Recording sends them to the real
llama.cpp server instead (with every connection to anything but the loopback failing);
replaying answers them from the recordings with every socket connect failing, and a request
with no recording fails with ReplayMiss, not with a connection attempt.
"""

from __future__ import annotations

import pytest

from replay.core.hashing import normalize_endpoint
from replay.engines.llama_cpp_python import LlamaServer
from replay.transports.providers import is_provider, redirected
from tests.conftest import BLOCK_NETWORK, recording_files

BASE = "http://127.0.0.1:8080/v1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/chat/completions", f"{BASE}/chat/completions"),
        (
            "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=1",
            f"{BASE}/chat/completions?api-version=1",
        ),
        ("https://api.groq.com/openai/v1/models", f"{BASE}/models"),
        ("https://openrouter.ai/api/v1/chat/completions", f"{BASE}/chat/completions"),
        ("https://api.deepseek.com/chat/completions", f"{BASE}/chat/completions"),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
            f"{BASE}/chat/completions",
        ),
        ("https://api.anthropic.com/v1/messages", f"{BASE}/messages"),
        ("https://api.mistral.ai/v1/embeddings", f"{BASE}/embeddings"),
        ("https://api.together.xyz/v1/completions", f"{BASE}/completions"),
    ],
)
def test_provider_urls_move_under_the_base_url(url: str, expected: str) -> None:
    assert is_provider(url)
    assert redirected(url, BASE) == expected


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_geminis_native_api_has_one_endpoint_whatever_the_clients_base_url(version: str) -> None:
    # google-genai sends /{version}/models/{model}:generateContent after its base URL: the
    # SDK's default host (redirected), the fixture's base URL as it is (ending in /v1), and
    # that base URL without /v1 (llm_replay.genai()) must all hash the same endpoint.
    path = f"/{version}/models/gemini-2.0-flash:generateContent"
    default_host = f"https://generativelanguage.googleapis.com{path}?alt=sse"
    assert is_provider(default_host)
    assert redirected(default_host, BASE) == f"{BASE}{path}?alt=sse"
    for url in (redirected(default_host, BASE), BASE + path, "http://127.0.0.1:8080" + path):
        assert normalize_endpoint(url) == path


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/v1/chat/completions",
        "https://api.openai.com.evil.test/v1/x",
        "http://127.0.0.1:8080/v1/models",
    ],
)
def test_other_hosts_are_not_providers(url: str) -> None:
    assert not is_provider(url)


APP = '''
"""Clients built at import time, as modules of an application do."""
import importlib

import openai

# The SDK's default host: https://api.openai.com/v1 (OPENAI_BASE_URL is not set yet).
CLIENT = openai.OpenAI(api_key="sk-made-up-at-import-time")
ASYNC_CLIENT = openai.AsyncOpenAI(api_key="sk-made-up-at-import-time")
assert str(CLIENT.base_url).startswith("https://api.openai.com/")
QUESTION = [{"role": "user", "content": "Name a colour"}]


def ask(content="Name a colour"):
    reply = CLIENT.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}],
        temperature=0, max_tokens=8)
    return reply.choices[0].message.content


async def ask_async():
    reply = await ASYNC_CLIENT.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, temperature=0, max_tokens=8, stream=True)
    return "".join([c.choices[0].delta.content or "" async for c in reply if c.choices])


def raw(flavour, url):
    http = importlib.import_module(flavour)
    with http.Client(timeout=120) as client:
        reply = client.post(url, json={"model": f"llama-3.1-8b on {flavour}", "messages": QUESTION,
                                        "temperature": 0, "max_tokens": 8},
                            headers={"authorization": "Bearer gsk_made_up"})
    return reply.json()["choices"][0]["message"]["content"]
'''

TESTS = """
import asyncio

import pytest

import app


def test_default_host_client(llm_replay):
    assert app.ask().strip()


def test_default_host_async_stream(llm_replay):
    assert asyncio.run(app.ask_async()).strip()


@pytest.mark.llm_replay
@pytest.mark.parametrize(("flavour", "url"), [
    ("httpx", "https://api.groq.com/openai/v1/chat/completions"),
    ("httpx2", "https://openrouter.ai/api/v1/chat/completions"),
])
def test_other_providers(flavour, url):
    assert app.raw(flavour, url).strip()
"""

# Recording: any connection but to the loopback fails, and so does resolving any other name.
LOOPBACK_ONLY = """
import socket

_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo
LOOPBACK = ("127.0.0.1", "::1", "localhost")

def _connect_loopback(self, address, *args):
    if address[0] not in LOOPBACK:
        raise AssertionError(f"a connection left the machine: {address!r}")
    return _connect(self, address, *args)

def _resolve_loopback(host, *args, **kwargs):
    if host not in LOOPBACK:
        raise AssertionError(f"a name was looked up: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect = _connect_loopback
socket.getaddrinfo = _resolve_loopback
"""

MISS = """
import app

def test_unrecorded_question(llm_replay):
    app.ask("Name a fruit")
"""


def test_provider_requests_record_locally_and_replay_offline(
    pytester: pytest.Pytester, llama_server: LlamaServer
) -> None:
    pytester.makepyfile(app=APP, test_app=TESTS, loopback_only=LOOPBACK_ONLY)
    pytester.syspathinsert()
    recorded = pytester.runpytest_subprocess(
        "-p", "loopback_only", "--record", "--llm-server-url", llama_server.base_url,
        "-p", "no:cacheprovider",
    )  # fmt: skip
    recorded.assert_outcomes(passed=4)
    recorded.stdout.fnmatch_lines(["*0 replayed, 4 recorded, 0 missed*"])
    files = recording_files(pytester.path / "recordings")
    assert [path.name.split("-")[0] for path in files] == ["chat_completions"] * 4
    assert all(llama_server.base_url.rsplit("/", 1)[0] in path.read_text() for path in files)

    pytester.makepyfile(blocknet=BLOCK_NETWORK, test_miss=MISS)
    replayed = pytester.runpytest_subprocess("-p", "blocknet", "-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=4, failed=1)
    replayed.stdout.fnmatch_lines(
        [
            "*ReplayMiss: pytest-llm-playback: no recording for POST /v1/chat/completions*",
            "*4 replayed, 0 recorded, 1 missed*",
        ]
    )
    assert "opened a network connection" not in replayed.stdout.str()


BLOCKING_TESTS = """
import http.server
import threading

import httpx
import pytest

from replay import HostBlocked


@pytest.fixture
def elsewhere():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_ini_setting_blocks(llm_replay, elsewhere):
    with httpx.Client() as client, pytest.raises(HostBlocked, match="llm_replay_block_other"):
        client.get(elsewhere)


@pytest.mark.llm_replay(block_other_hosts=False)
def test_the_marker_wins(elsewhere):
    with httpx.Client() as client:
        assert client.get(elsewhere).text == "hello"
"""


def test_other_hosts_can_be_blocked_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_replay_block_other_hosts = true\n")
    pytester.makepyfile(test_blocking=BLOCKING_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
