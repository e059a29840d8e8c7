"""pytest-llm-replay: record LLM server exchanges once, replay them deterministically."""

from replay.errors import (
    LLMReplayError,
    RecordingFileError,
    ReplayFailure,
    ReplayMiss,
    SecretInRecording,
    ServerStartError,
)
from replay.fixture import LLMReplay
from replay.player import Player
from replay.recording import Recording, dumps, loads
from replay.store import DirectoryStore, MemoryStore
from replay.transport import replay_transport

__version__ = "0.1.0"

__all__ = [
    "DirectoryStore",
    "LLMReplay",
    "LLMReplayError",
    "MemoryStore",
    "Player",
    "Recording",
    "RecordingFileError",
    "ReplayFailure",
    "ReplayMiss",
    "SecretInRecording",
    "ServerStartError",
    "__version__",
    "dumps",
    "loads",
    "replay_transport",
]
