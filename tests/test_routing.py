"""Which auto-started engine answers which endpoint, behind one base URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.engines.llama_cpp_python import LazyServer
from replay.engines.native_server import LazyNativeServer
from replay.engines.selection import Engines, engine_for, with_port
from replay.errors import LLMReplayError, ServerStartError


@pytest.mark.parametrize(
    ("endpoint", "engine"),
    [
        ("/v1/chat/completions", "python"),
        ("/v1/completions", "python"),
        ("/v1/embeddings", "python"),
        ("/v1/models", "python"),
        ("/v1/messages", "native"),
        ("/v1/messages/count_tokens", "native"),
        ("/v1/responses", "native"),
        ("/v1/responses/input_tokens", "native"),
        ("/completion", "native"),
        ("/v1/audio/speech", None),
    ],
)
def test_engine_for(endpoint: str, engine: str | None) -> None:
    assert engine_for(endpoint) == engine


def test_with_port_keeps_path_and_query() -> None:
    assert with_port("http://127.0.0.1:1/v1/messages?beta=true", 7) == (
        "http://127.0.0.1:7/v1/messages?beta=true"
    )


def test_an_endpoint_no_engine_serves_names_it_and_the_fix(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    engines = Engines(LazyServer(model, tmp_path), LazyNativeServer(model, tmp_path))
    with pytest.raises(LLMReplayError) as caught:
        engines.forward_url(engines.base_url + "/audio/speech")
    message = str(caught.value)
    assert "/v1/audio/speech" in message and "--llm-server-url" in message
    assert engines.python.server is None and engines.native.server is None  # nothing started


def test_the_native_engine_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "xllamacpp" else real(name)
    )
    native = LazyNativeServer(tmp_path / "m.gguf", tmp_path)
    with pytest.raises(LLMReplayError, match="pip install xllamacpp"):
        native.ensure()


@pytest.mark.parametrize("engine", [LazyServer, LazyNativeServer])
def test_an_engine_that_failed_to_start_is_not_started_again(
    engine: type[LazyServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every later request of the run fails at once, pointing at the first error, instead of
    paying another start (and another minute of timeout) per request."""
    starts = []

    def failing(self: LazyServer, model_path: Path) -> None:
        starts.append(model_path)
        raise ServerStartError("pytest-llm-playback: the server exited at once (see its log)")

    monkeypatch.setattr(engine, "start", failing)
    monkeypatch.setattr(engine, "model_to_serve", lambda self: tmp_path / "m.gguf")
    lazy = engine(tmp_path / "m.gguf", tmp_path)
    with pytest.raises(ServerStartError, match="exited at once"):
        lazy.ensure()
    for _ in range(3):
        with pytest.raises(ServerStartError, match="could not start; the first test that"):
            lazy.ensure()
    assert len(starts) == 1 and lazy.server is None
