"""The errors pytest-llm-playback raises. Each message names the thing and the fix.

Every one derives from ``LLMReplayError``, so ``pytest.raises(SecretInRecording)`` (or
``pytest.raises(LLMReplayError)``) catches it as itself, even when it is raised inside the
openai SDK's HTTP call.
"""

from __future__ import annotations

import warnings
from typing import Any

DEPRECATED = {"ReplayFailure": "LLMReplayError"}  # 0.1 names, answered with a warning until 0.3


def deprecated(module: str, name: str) -> Any:
    """The error a 0.1 name stood for, with a ``DeprecationWarning`` that names the new one;
    AttributeError for any other name."""
    if name not in DEPRECATED:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated and goes in 0.3: catch {module}.{DEPRECATED[name]}",
        DeprecationWarning,
        stacklevel=3,
    )
    return globals()[DEPRECATED[name]]


def __getattr__(name: str) -> Any:
    return deprecated(__name__, name)


class LLMReplayError(BaseException):
    """Base class of every error the library raises.

    Derives from BaseException on purpose: the openai SDK (2.x and 3.x) catches every
    ``Exception`` raised by its transport, retries it and re-raises it as
    ``APIConnectionError("Connection error.")``. A BaseException passes through untouched,
    as pytest's own ``Failed`` does, so the test sees the failure itself, once, and an
    application's ``except Exception`` cannot swallow a replay miss. The plugin reports these
    errors by their message alone, without the traceback through httpx and openai.
    """


class RecordingFileError(LLMReplayError):
    """A recording file cannot be read: the message names the file and what is wrong."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(
            f"pytest-llm-playback: bad recording {self.path}: {problem}. "
            "Fix the file or delete it and re-run pytest with --record to regenerate it."
        )


class ServerStartError(LLMReplayError):
    """The llama.cpp server the plugin starts for recording did not come up, or cannot be
    started (llama-cpp-python or the model is missing)."""


class SecretInRecording(LLMReplayError):
    """A recording about to be written holds something shaped like a key; nothing was written."""


class ReplayMiss(LLMReplayError):
    """A request has no recording in replay mode."""


class HostBlocked(LLMReplayError):
    """A request went to a host other than the LLM server while the test blocks other hosts."""
