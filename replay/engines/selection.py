"""Which auto-started engine answers which endpoint, behind one base URL.

llama-cpp-python's server (the project's named dependency) answers what it serves; llama.cpp's
native server (``replay.engines.native_server``) is started on the same model the first time a test
calls an endpoint only it serves, and the recording transport sends each request to the engine
that serves it. Tests and recordings see one ``base_url``: the request's URL is rewritten only
on its way to the server, after it was hashed and described for the recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from replay.core.hashing import normalize_endpoint
from replay.engines.llama_cpp_python import LazyServer
from replay.engines.native_server import LazyNativeServer
from replay.errors import LLMReplayError

# What llama-cpp-python's server answers (its OpenAI routes; /v1/models lists the alias).
PYTHON_ENDPOINTS = frozenset(
    {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models"}
)
# What only llama.cpp's native server answers, of what it serves.
NATIVE_ENDPOINTS = frozenset(
    {
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/responses",
        "/v1/responses/input_tokens",
        "/completion",
        "/v1/completion",
    }
)


def engine_for(endpoint: str) -> str | None:
    """``"python"``, ``"native"``, or None when no auto-started engine serves ``endpoint``."""
    if endpoint in PYTHON_ENDPOINTS:
        return "python"
    if endpoint in NATIVE_ENDPOINTS:
        return "native"
    return None


def unserved(endpoint: str) -> str:
    """The error message for an endpoint no auto-started engine serves."""
    served = ", ".join(sorted(PYTHON_ENDPOINTS | NATIVE_ENDPOINTS))
    return (
        f"pytest-llm-playback: no auto-started llama.cpp server serves {endpoint} (they serve "
        f"{served}). Record it against a server that does: pytest --record "
        "--llm-server-url URL"
    )


def with_port(url: str, port: int) -> str:
    """``url`` on the loopback ``port``, path and query kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


@dataclass
class Engines:
    """The auto-started engines: llama-cpp-python's at ``base_url``, the native one on
    demand. Has the interface of the ``LazyServer`` it extends."""

    python: LazyServer
    native: LazyNativeServer

    @property
    def base_url(self) -> str:
        """The one base URL of every endpoint, ending in ``/v1``."""
        return self.python.base_url

    @property
    def model(self) -> str:
        """The model name both engines answer to."""
        return self.python.model

    @property
    def served_model(self) -> str:
        """The model both engines run, whatever name a request asks for."""
        return self.python.served_model

    def ensure(self) -> None:
        """Start llama-cpp-python's server unless it runs (the native one starts on need)."""
        self.python.ensure()

    def forward_url(self, url: str) -> str:
        """Where a request to ``url`` goes: the engine serving its endpoint, started if
        needed. Raises LLMReplayError for an endpoint that no engine serves."""
        endpoint = normalize_endpoint(url)
        engine = engine_for(endpoint)
        if engine == "python":
            self.python.ensure()
            return url
        if engine == "native":
            self.native.ensure()
            return with_port(url, self.native.port)
        raise LLMReplayError(unserved(endpoint))

    def died(self) -> str | None:
        """Why a started engine is gone, or None."""
        return self.python.died() or self.native.died()

    def stop(self) -> None:
        """Stop the engines that were started."""
        try:
            self.native.stop()
        finally:
            self.python.stop()
