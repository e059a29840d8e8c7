"""Which HTTP client module speaks for an SDK: ``httpx`` (openai 2.x) or ``httpx2`` (openai
3.x, anthropic 2.x, google-genai 3.x). The two have the same API and distinct classes; the
transports build their classes from the module these functions name. No I/O: it reads
installed distributions' metadata and imports the module."""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Literal

from replay.errors import LLMReplayError

Flavour = Literal["httpx", "httpx2"]
FLAVOURS: tuple[Flavour, ...] = ("httpx", "httpx2")


def flavour_module(flavour: Flavour) -> ModuleType:
    """The HTTP client module of a flavour, with install advice if it is missing."""
    if flavour not in FLAVOURS:
        raise LLMReplayError(
            f"pytest-llm-playback: unknown flavour {flavour!r}; use one of {FLAVOURS}"
        )
    try:
        return importlib.import_module(flavour)
    except ImportError:
        raise LLMReplayError(
            f"pytest-llm-playback: the {flavour} flavour needs {flavour}: pip install {flavour}"
        ) from None


def default_flavour() -> Flavour:
    """The flavour the installed openai uses (3.x: httpx2, 2.x: httpx), else what is installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        major = int(version("openai").split(".")[0])
        return "httpx2" if major >= 3 else "httpx"
    except (PackageNotFoundError, ValueError):
        pass
    try:
        importlib.import_module("httpx")
        return "httpx"
    except ImportError:
        return "httpx2"


def sdk_flavour(distribution: str) -> Flavour:
    """The HTTP client an installed SDK uses: ``httpx2`` if its distribution depends on it
    (anthropic 2.x, google-genai 3.x), else ``httpx``; ``httpx2`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        needs = requires(distribution) or []
    except PackageNotFoundError:
        return "httpx2"
    # Only a requirement of the SDK itself, not of one of its extras ("; extra == ...").
    uses_httpx2 = any(re.match(r"httpx2\b", need) and "extra ==" not in need for need in needs)
    return "httpx2" if uses_httpx2 else "httpx"
