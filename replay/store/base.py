"""What the replay core needs of a place that holds recordings (``Store``), and what a write
says back (``Saved``). The player receives a store; it never imports one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol

from replay.core.recording import Recording


class Saved(NamedTuple):
    """Where a recording was kept, and whether its file was written (not when it already held
    the same answer, up to what changes on every call)."""

    path: str
    written: bool


class Store(Protocol):
    """What the replay core needs of a place that holds recordings. A recording is found by
    its test (None: the shared scope), its request hash and its repeat number."""

    def get(self, test: str | None, key: str, index: int, endpoint: str) -> Recording | None:
        """The ``index``-th recording (0-based) of the request hash ``key`` in ``test``'s
        scope alone, if any."""

    def put(self, recording: Recording, index: int, text: str | None = None) -> Saved:
        """Keep ``recording`` as the ``index``-th of its key in its test's scope (``text``:
        its ``dumps``, when the caller has it); say where, and whether it was written."""

    def describe(self, test: str | None, key: str, index: int, endpoint: str) -> str:
        """Where the ``index``-th recording of ``key`` is looked for, for error messages."""

    def neighbours(self, test: str | None, endpoint: str) -> Iterator[Recording]:
        """The readable recordings of ``endpoint`` that ``test`` may replay: only ever read
        to explain a miss."""
