"""pytest-llm-playback: record LLM server exchanges once, replay them deterministically.

The public names are imported on first use (PEP 562), so that loading the pytest plugin,
which imports this package, costs a pytest run almost nothing until a test records or
replays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replay.core.recording import Recording, dumps, loads
    from replay.errors import (
        HostBlocked,
        LLMReplayError,
        RecordingFileError,
        ReplayMiss,
        SecretInRecording,
        ServerStartError,
    )
    from replay.player import Player
    from replay.plugin.handle import LLMReplay
    from replay.shaping.faults import CutAfter, DelayFirstByte, FailWith
    from replay.shaping.plan import Shaping
    from replay.store.directory import DirectoryStore
    from replay.store.memory import MemoryStore
    from replay.transports.httpx_transport import replay_transport

from replay.core.lazy_names import lazy_names
from replay.core.product import VERSION as __version__
from replay.errors import deprecated

_WHERE = {
    "CutAfter": "replay.shaping.faults",
    "DelayFirstByte": "replay.shaping.faults",
    "FailWith": "replay.shaping.faults",
    "Shaping": "replay.shaping.plan",
    "DirectoryStore": "replay.store.directory",
    "HostBlocked": "replay.errors",
    "LLMReplay": "replay.plugin.handle",
    "LLMReplayError": "replay.errors",
    "MemoryStore": "replay.store.memory",
    "Player": "replay.player",
    "Recording": "replay.core.recording",
    "RecordingFileError": "replay.errors",
    "ReplayMiss": "replay.errors",
    "SecretInRecording": "replay.errors",
    "ServerStartError": "replay.errors",
    "dumps": "replay.core.recording",
    "loads": "replay.core.recording",
    "replay_transport": "replay.transports.httpx_transport",
}

__all__ = [
    "CutAfter",
    "DelayFirstByte",
    "DirectoryStore",
    "FailWith",
    "HostBlocked",
    "LLMReplay",
    "LLMReplayError",
    "MemoryStore",
    "Player",
    "Recording",
    "RecordingFileError",
    "ReplayMiss",
    "SecretInRecording",
    "ServerStartError",
    "Shaping",
    "__version__",
    "dumps",
    "loads",
    "replay_transport",
]


__getattr__ = lazy_names(__name__, _WHERE, deprecated)
