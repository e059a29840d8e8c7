"""Where recordings live: a folder of files named by request hash, or a list in memory.

A lookup opens at most one file, found by name: no folder scan per request, whatever the
number of recordings. Every write is atomic (a temporary file in the same folder, then
``os.replace``), so a reader or a crash sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from replay.errors import LLMReplayError, RecordingFileError
from replay.file_reading import UnreadableFile, read_recording
from replay.folder_problems import folder_problem
from replay.miss_search import MAX_FILE_BYTES
from replay.recording import Recording, dumps, loads


class Store(Protocol):
    """What the replay core needs of a place that holds recordings."""

    def get(self, key: str, index: int, endpoint: str) -> Recording | None:
        """The ``index``-th recording (0-based) of the request hash ``key``, if any."""

    def put(self, recording: Recording, index: int, text: str | None = None) -> str:
        """Keep ``recording`` as the ``index``-th of its key (``text``: its ``dumps``, when
        the caller has it already); say where."""

    def describe(self, key: str, index: int, endpoint: str) -> str:
        """Where the ``index``-th recording of ``key`` is looked for, for error messages."""

    def neighbours(self, endpoint: str) -> Iterator[Recording]:
        """The readable recordings of ``endpoint``: only ever read to explain a miss."""


def file_name(key: str, index: int) -> str:
    """``<first 16 hex of the hash>.json``, then ``-2``, ``-3`` … for repeats of a request."""
    suffix = "" if index == 0 else f"-{index + 1}"
    return f"{key[:16]}{suffix}.json"


@lru_cache(maxsize=256)
def endpoint_folder(endpoint: str) -> str:
    """A folder per endpoint, so that people can find their way: ``/v1/chat/completions`` ->
    ``chat_completions``."""
    parts = [part for part in endpoint.strip("/").split("/") if part not in ("", ".", "..")]
    if parts and parts[0].startswith("v") and parts[0][1:].isdigit():
        parts = parts[1:]
    return "_".join(parts) or "root"


class DirectoryStore:
    """Recordings as files under ``root``/<endpoint folder>/<hash>.json."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str, index: int, endpoint: str) -> Path:
        """The file of the ``index``-th recording of ``key``."""
        return Path(self._file(key, index, endpoint))

    def get(self, key: str, index: int, endpoint: str) -> Recording | None:
        path = self._file(key, index, endpoint)
        try:
            data = read_recording(path)  # a regular file of bounded size, or an error
        except FileNotFoundError:
            return None
        except UnreadableFile as error:
            raise RecordingFileError(path, error.problem) from None
        except OSError as error:
            problem = folder_problem(self.root, path, error, writing=False)
            if problem is not None:
                raise LLMReplayError(problem) from None
            raise RecordingFileError(path, f"it cannot be read ({error.strerror})") from None
        return loads(data, path, expected_key=key)

    def _file(self, key: str, index: int, endpoint: str) -> str:
        # A string, not a Path: this is on the path of every replayed request.
        return os.path.join(self.root, endpoint_folder(endpoint), file_name(key, index))

    def put(self, recording: Recording, index: int, text: str | None = None) -> str:
        path = self.path(recording.key, index, recording.endpoint)
        try:
            write_atomic(path, dumps(recording) if text is None else text)
        except OSError as error:
            problem = folder_problem(self.root, str(path), error, writing=True)
            raise LLMReplayError(problem or str(error)) from None
        return str(path)

    def describe(self, key: str, index: int, endpoint: str) -> str:
        return str(self.path(key, index, endpoint))

    def neighbours(self, endpoint: str) -> Iterator[Recording]:
        for path in sorted((self.root / endpoint_folder(endpoint)).glob("*.json")):
            try:
                yield loads(read_recording(path, MAX_FILE_BYTES), str(path))
            except (OSError, UnreadableFile, RecordingFileError):
                continue


class MemoryStore:
    """Recordings held in memory, for instance llama-stack files loaded as they are."""

    def __init__(self, recordings: Iterable[Recording] = ()) -> None:
        self._recordings: dict[tuple[str, int], Recording] = {}
        for recording in recordings:
            self.add(recording)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]]) -> MemoryStore:
        """Load recording files (native or llama-stack); identical requests keep file order."""
        return cls(loads(_read(path), str(path)) for path in paths)

    def add(self, recording: Recording) -> None:
        """Keep ``recording`` after those of the same request already held."""
        index = 0
        while (recording.key, index) in self._recordings:
            index += 1
        self._recordings[recording.key, index] = recording

    def get(self, key: str, index: int, endpoint: str) -> Recording | None:
        return self._recordings.get((key, index))

    def put(self, recording: Recording, index: int, text: str | None = None) -> str:
        self._recordings[recording.key, index] = recording
        return f"<memory #{index} of {recording.key[:16]}>"

    def describe(self, key: str, index: int, endpoint: str) -> str:
        return f"<memory #{index} of {key[:16]}> (nothing held under that hash)"

    def neighbours(self, endpoint: str) -> Iterator[Recording]:
        return (r for r in self._recordings.values() if r.endpoint == endpoint)


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return read_recording(path)
    except UnreadableFile as error:
        raise RecordingFileError(path, error.problem) from None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes 0600; a recording is an ordinary file
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
