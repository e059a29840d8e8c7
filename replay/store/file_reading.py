"""Reading a recording file: a regular file, of bounded size, never blocking.

A name like a recording may be a symlink to ``/dev/zero`` or a FIFO: reading it whole would
exhaust memory or block forever. The file is opened without blocking, checked with ``fstat``
to be a regular file (a symlink to one is fine) and read only when it is no larger than the
bound.
"""

from __future__ import annotations

import os
import stat

# The largest recording read: far above any exchange (a 200 MB recording reads), far below
# what would take the machine's memory.
MAX_RECORDING_BYTES = 512 * 1024 * 1024


class UnreadableFile(Exception):
    """A file that is not read; ``problem`` says why, for messages that name the file."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def read_recording(path: str | os.PathLike[str], limit: int = MAX_RECORDING_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. ``FileNotFoundError`` (and other
    ``OSError``) as ``open`` raises them; ``UnreadableFile`` for a FIFO, device, socket or
    folder, or a file over the bound."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile(
                f"it is not a regular file but {_kind(status.st_mode)}; a recording is a file "
                "(delete it, or replace it by the recording)"
            )
        if status.st_size > limit:
            raise UnreadableFile(
                f"it is {status.st_size:,} bytes, more than the {limit:,} a recording may have"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:  # grew while being read
        raise UnreadableFile(f"it is more than the {limit:,} bytes a recording may have")
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (such as /dev/zero, perhaps through a symlink)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
