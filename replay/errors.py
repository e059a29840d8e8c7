"""The errors pytest-llm-replay raises. Each message names the thing and the fix."""

from __future__ import annotations


class LLMReplayError(Exception):
    """Base class of the library's ordinary errors."""


class RecordingFileError(LLMReplayError):
    """A recording file cannot be read: the message names the file and what is wrong."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(
            f"pytest-llm-replay: bad recording {self.path}: {problem}. "
            "Fix the file or delete it and re-run pytest with --record to regenerate it."
        )


class ServerStartError(LLMReplayError):
    """The llama.cpp server the plugin starts for recording did not come up."""


class SecretInRecording(LLMReplayError):
    """A recording about to be written holds something shaped like a key; nothing was written."""


class ReplayFailure(BaseException):
    """A failure inside the record/replay transport that must reach the test as itself.

    Derives from BaseException on purpose: the openai SDK (2.x and 3.x) catches every
    ``Exception`` raised by its transport, retries it and re-raises it as
    ``APIConnectionError("Connection error.")``. A BaseException passes through untouched,
    as pytest's own ``Failed`` does, so the test sees the failure itself, once. The plugin
    reports it by its message alone, without the traceback through httpx and openai.
    """


class ReplayMiss(ReplayFailure):
    """A request has no recording in replay mode."""
