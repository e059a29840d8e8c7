"""What to say when the recordings folder cannot be used: one message that names the folder
and the fix, instead of an OS traceback (or "bad recording …: it cannot be read (Not a
directory)" for a file that does not exist). Pure apart from looking at the path's parents.
"""

from __future__ import annotations

import errno
from pathlib import Path

OPTION = "--llm-recordings-dir (ini llm_replay_dir)"


def folder_problem(root: Path, path: str, error: OSError, writing: bool) -> str | None:
    """The message for an ``OSError`` met reading or writing ``path`` under the recordings
    folder ``root``; None when the error is the file's own (the caller names the file)."""
    doing = "write recordings" if writing else "read recordings"
    if error.errno in (errno.ENOTDIR, errno.EEXIST) or (error.errno == errno.EISDIR and writing):
        blocker = _file_in_the_way(Path(path))
        if blocker is not None:
            return (
                f"pytest-llm-playback: cannot {doing} under {root}: {blocker} is a file, not a "
                f"folder. Point {OPTION} at a folder, or move {blocker} away."
            )
    if error.errno == errno.ENAMETOOLONG:
        longest = max(Path(path).parts, key=len)
        return (
            f"pytest-llm-playback: cannot {doing} under {root}: the name {longest[:40]}… is "
            f"{len(longest)} characters, longer than the file system allows. Choose a shorter "
            f"{OPTION}."
        )
    if writing and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = _nearest_existing(Path(path).parent)
        return (
            f"pytest-llm-playback: cannot write recordings in {folder} ({error.strerror}): make "
            f"the folder writable, or record into another with {OPTION}."
        )
    if writing:
        return (
            f"pytest-llm-playback: cannot write {path} ({error.strerror or error}): free the "
            f"disk or fix the folder, or record into another with {OPTION}."
        )
    return None


def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path``'s folders, from the top, that exists and is not a folder."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
