"""Recordings as files: a folder with one subfolder per test (``replay.store.layout``).

A lookup opens at most one file per scope, found by name from the test, the endpoint and the
request hash: no folder is listed and no other test's file is opened, whatever the number of
recordings. Every write is atomic (a temporary file in the same folder, then ``os.replace``),
so a reader or a crash sees the old file or the new one, never half of one. A write whose
answer is the file's, up to what changes on every call (``replay.core.volatile``), leaves the file
as it is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from replay.core.recording import Recording, dumps, loads
from replay.core.volatile import same_answer
from replay.errors import LLMReplayError, RecordingFileError
from replay.store.base import Saved
from replay.store.bounded_search import MAX_FILE_BYTES
from replay.store.file_reading import UnreadableFile, read_recording
from replay.store.folder_problems import folder_problem
from replay.store.layout import (
    endpoint_folder,
    endpoint_name,
    relative_path,
    scope_folder,
    v1_path,
)


class DirectoryStore:
    """Recordings as files under ``root``, laid out by ``replay.store.layout``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, test: str | None, key: str, index: int, endpoint: str) -> Path:
        """The file of the ``index``-th recording of ``key`` in ``test``'s scope."""
        return Path(self._file(test, key, index, endpoint))

    def get(self, test: str | None, key: str, index: int, endpoint: str) -> Recording | None:
        recording = self._read(self._file(test, key, index, endpoint), key)
        if recording is None and test is None:  # version 1's flat layout is shared
            recording = self._read(os.path.join(self.root, v1_path(endpoint, key, index)), key)
        return recording

    def _read(self, path: str, key: str) -> Recording | None:
        try:
            data = read_bytes(path)  # a regular file of bounded size, or an error
        except FileNotFoundError:
            return None
        except OSError as error:
            problem = folder_problem(self.root, path, error, writing=False)
            if problem is not None:
                raise LLMReplayError(problem) from None
            raise RecordingFileError(path, f"it cannot be read ({error.strerror})") from None
        return loads(data, path, expected_key=key)

    def _file(self, test: str | None, key: str, index: int, endpoint: str) -> str:
        # A string, not a Path: this is on the path of every replayed request.
        return os.path.join(self.root, relative_path(test, endpoint, key, index))

    def put(self, recording: Recording, index: int, text: str | None = None) -> Saved:
        path = self.path(recording.test, recording.key, index, recording.endpoint)
        old = self._previous(str(path), recording.key)
        if old is not None and same_answer(old, recording):
            return Saved(str(path), written=False)
        try:
            write_atomic(path, dumps(recording) if text is None else text)
        except OSError as error:
            problem = folder_problem(self.root, str(path), error, writing=True)
            raise LLMReplayError(problem or str(error)) from None
        return Saved(str(path), written=True)

    def _previous(self, path: str, key: str) -> Recording | None:
        """The recording a write would replace, if it is readable."""
        try:
            return self._read(path, key)
        except RecordingFileError:
            return None

    def describe(self, test: str | None, key: str, index: int, endpoint: str) -> str:
        where = str(self.path(test, key, index, endpoint))
        if test is not None:
            return f"{where} (then {self.path(None, key, index, endpoint)}, shared)"
        return where

    def neighbours(self, test: str | None, endpoint: str) -> Iterator[Recording]:
        pattern = f"{endpoint_name(endpoint)}-*.json"
        for scope in (test, None) if test is not None else (None,):
            yield from _readable(sorted((self.root / scope_folder(scope)).glob(pattern)))
        yield from _readable(sorted((self.root / endpoint_folder(endpoint)).glob("*.json")))


def _readable(paths: Iterable[Path]) -> Iterator[Recording]:
    for path in paths:
        try:
            yield loads(read_recording(path, MAX_FILE_BYTES), str(path))
        except (OSError, UnreadableFile, RecordingFileError):
            continue


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A recording file's bytes: a regular file of bounded size (RecordingFileError if it is
    not one), or the OSError of reading it."""
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
