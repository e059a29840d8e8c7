"""Recordings held in memory: a store for recordings loaded as they are (llama-stack files,
a benchmark's, a test's), found by test, request hash and repeat number."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from replay.core.recording import Recording, loads
from replay.store.base import Saved
from replay.store.directory import read_bytes


class MemoryStore:
    """Recordings held in memory, for instance llama-stack files loaded as they are."""

    def __init__(self, recordings: Iterable[Recording] = ()) -> None:
        self._recordings: dict[tuple[str | None, str, int], Recording] = {}
        for recording in recordings:
            self.add(recording)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]]) -> MemoryStore:
        """Load recording files (native or llama-stack); identical requests keep file order."""
        return cls(loads(read_bytes(path), str(path)) for path in paths)

    def add(self, recording: Recording) -> None:
        """Keep ``recording`` after those of the same request (and test) already held."""
        index = 0
        while (recording.test, recording.key, index) in self._recordings:
            index += 1
        self._recordings[recording.test, recording.key, index] = recording

    def get(self, test: str | None, key: str, index: int, endpoint: str) -> Recording | None:
        return self._recordings.get((test, key, index))

    def put(self, recording: Recording, index: int, text: str | None = None) -> Saved:
        self._recordings[recording.test, recording.key, index] = recording
        return Saved(self.describe(recording.test, recording.key, index, recording.endpoint), True)

    def describe(self, test: str | None, key: str, index: int, endpoint: str) -> str:
        owner = "shared" if test is None else test
        return f"<memory #{index} of {key[:16]} ({owner})>"

    def neighbours(self, test: str | None, endpoint: str) -> Iterator[Recording]:
        return (
            r
            for r in self._recordings.values()
            if r.endpoint == endpoint and r.test in (test, None)
        )
