"""Names a package answers on first use (PEP 562): what a module of 0.1 held, before it
became a package of modules, keeps working as ``from replay.store import DirectoryStore``
without the package importing its modules when it is itself imported."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(
    package: str,
    where: dict[str, str],
    otherwise: Callable[[str, str], Any] | None = None,
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name of ``where`` from its module; any
    other name from ``otherwise(package, name)`` (say, a deprecated one), else AttributeError."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        if otherwise is not None:
            return otherwise(package, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
