"""The plugin's settings, resolved once per session from options, environment and ini."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

import pytest

from replay.core.modes import MODES, Mode
from replay.core.redaction import Redaction
from replay.errors import LLMReplayError

if TYPE_CHECKING:
    from replay.shaping.plan import Shaping

MODE_ENV = "LLM_PLAYBACK_MODE"
OLD_MODE_ENV = "LLM_REPLAY_MODE"  # the 0.1 name: still read, with a note, until 0.3
REPLAY_BASE_URL = "http://llm-playback.invalid/v1"


@dataclass(frozen=True)
class Settings:
    """What a session runs with."""

    mode: Mode
    server_url: str | None
    model_path: Path | None
    recordings_dir: Path
    redaction: Redaction
    ignore_fields: tuple[str, ...] = ()
    shaping: Shaping | None = None  # --llm-pace/--llm-chunking or ini; None: plain replay
    block_other_hosts: bool = False
    notes: tuple[str, ...] = ()  # for the report header: settings read under an old name

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        """Command line first, then ``LLM_PLAYBACK_MODE`` (mode only), then the ini file."""
        notes = []
        from_environment = os.environ.get(MODE_ENV)
        if not from_environment and (from_environment := os.environ.get(OLD_MODE_ENV)):
            notes.append(f"{OLD_MODE_ENV} is read until 0.3: name it {MODE_ENV} (same values)")
        mode = (
            config.getoption("llm_replay_record")
            or config.getoption("llm_replay_record_mode")
            or from_environment
            or config.getini("llm_replay_record_mode")
            or "replay"
        )
        if mode not in MODES:
            raise pytest.UsageError(
                f"pytest-llm-playback: record mode {mode!r} (from --record-mode, {MODE_ENV} or "
                f"llm_replay_record_mode) is not one of {', '.join(MODES)}"
            )
        server_url = config.getoption("llm_replay_server_url") or config.getini(
            "llm_replay_server_url"
        )
        model = config.getoption("llm_replay_model") or config.getini("llm_replay_model")
        folder = config.getoption("llm_replay_dir") or config.getini("llm_replay_dir")
        try:
            redaction = Redaction(
                headers=frozenset(config.getini("llm_replay_redact_headers")),
                body_fields=tuple(config.getini("llm_replay_redact_body")),
                secret_patterns=tuple(config.getini("llm_replay_secret_patterns")),
                not_secret=frozenset(config.getini("llm_replay_not_secret")),
            )
        except re.error as error:
            raise pytest.UsageError(
                f"pytest-llm-playback: llm_replay_secret_patterns has a bad pattern: {error}"
            ) from None
        return cls(
            mode=cast(Mode, mode),
            server_url=normalize_base_url(server_url) if server_url else None,
            model_path=Path(model).expanduser() if model else None,
            recordings_dir=config.rootpath / Path(folder).expanduser(),
            redaction=redaction,
            ignore_fields=tuple(config.getini("llm_replay_ignore_fields")),
            shaping=_shaping(config),
            block_other_hosts=bool(config.getini("llm_replay_block_other_hosts")),
            notes=tuple(notes),
        )


def _shaping(config: pytest.Config) -> Shaping | None:
    """Pace and chunking from the command line, else the ini file; None if neither is set."""
    pace = config.getoption("llm_replay_pace") or config.getini("llm_replay_pace")
    chunking = config.getoption("llm_replay_chunking") or config.getini("llm_replay_chunking")
    if not (pace or chunking):
        return None
    from replay.shaping.plan import Shaping

    try:
        return Shaping.of(pace or 0.0, chunking or "event")
    except LLMReplayError as error:
        raise pytest.UsageError(
            f"{error} (from --llm-pace/--llm-chunking or llm_replay_pace/llm_replay_chunking)"
        ) from None


def normalize_base_url(url: str) -> str:
    """A server URL as an OpenAI base URL, without a trailing slash: a bare
    ``http://host:port`` gets ``/v1``; a URL with a path (``.../v1``, ``.../v1beta/openai``)
    is taken as the base URL it is."""
    url = url.rstrip("/")
    return url if urlsplit(url).path else f"{url}/v1"
