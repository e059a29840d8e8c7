"""What every ``llm-playback`` command shares: the recordings folder's entries (a file, its
recording or why it cannot be read), the command's errors, and how it prints: lines, tables,
sizes and counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.core.recording import Recording, loads
from replay.core.secret_scan import mask_secrets
from replay.errors import RecordingFileError
from replay.store.file_reading import UnreadableFile, read_recording

PROG = "llm-playback"


DEFAULT_DIR = "recordings"


DEFAULT_CACHE = ".pytest_cache"


SHARED_LABEL = "(shared)"


OLD_USAGE_FILE = ".llm-replay-last-run.json"  # version 1 kept the usage in the folder


HEX = re.compile(r"[0-9a-f]{6,64}")


REPEAT = re.compile(r"-([2-9]|[1-9][0-9]+)\.json$")  # the 2nd, 3rd ... identical request


class CommandError(Exception):
    """A command cannot go on; the message names the thing and the fix."""


@contextmanager
def openai_needed() -> Iterator[None]:
    """Checking types imports openai: when it is missing, a CommandError with the install
    command instead of the ImportError."""
    try:
        yield
    except ImportError as error:
        raise CommandError(
            f"checking types needs the openai package ({error}): pip install openai"
        ) from None


@dataclass(slots=True)
class Entry:
    """One file of the recordings folder: its recording, or why it cannot be read."""

    path: Path
    name: str  # relative to the folder, with "/"
    recording: Recording | None = None
    problem: str | None = None
    native: bool = False  # in this library's format, not a llama-stack file


def read_entry(path: Path, folder: Path) -> Entry:
    """Load one file of ``folder``; a file that does not load carries its problem."""
    name = relative_name(path, folder)
    try:
        data = read_recording(path)  # a regular file of bounded size
        recording = loads(data, str(path))
    except (RecordingFileError, UnreadableFile) as error:
        return Entry(path, name, problem=error.problem)
    except OSError as error:
        return Entry(path, name, problem=f"cannot be read ({error.strerror or error})")
    return Entry(path, name, recording, native=recording.native)


def folder_entries(folder: Path) -> list[Entry]:
    """Every recording file of ``folder``, loaded, in path order."""
    return [read_entry(path, folder) for path in recording_paths(folder)]


def recording_paths(folder: Path) -> list[Path]:
    """The recording files of ``folder``, unread; CommandError if there is no such folder."""
    if not folder.is_dir():
        raise CommandError(
            f"no recordings folder {folder}: pass --dir DIR, or record some with "
            f"pytest --record (they are written to {DEFAULT_DIR}/ under the rootdir)"
        )
    # Not only regular files: a FIFO or a symlink to a device named like a recording is
    # listed, and reported as what it is.
    return sorted(
        path
        for path in folder.rglob("*.json")
        if not path.name.startswith(".") and not path.is_dir()
    )


def relative_name(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def say(line: object = "") -> None:
    """Print a line with every key-shaped string masked: output may reach a CI log."""
    print(mask_secrets(str(line)))


def test_of(recording: Recording) -> str:
    return recording.test or SHARED_LABEL


def table(rows: list[list[str]]) -> list[str]:
    """Rows as plain aligned columns; a row shorter than the first (an unreadable file)
    keeps its first column aligned and runs on."""
    width = len(rows[0])
    full = [row for row in rows if len(row) == width]
    widths = [max(len(row[column]) for row in full) for column in range(width)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def human_size(size: int) -> str:
    """Bytes as people read them."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def model_of(recording: Recording) -> str:
    model = recording.model
    if model is None and isinstance(recording.body, dict):
        model = recording.body.get("model")
    return str(model) if model else "-"


def recorded_text(recorded: dict[str, Any]) -> str:
    parts = [str(recorded.get("at") or "time unknown")]
    if recorded.get("server"):
        model = f" ({recorded['server_model']})" if recorded.get("server_model") else ""
        parts.append(f"from {recorded['server']}{model}")
    if recorded.get("by"):
        parts.append(f"by {recorded['by']}")
    return " ".join(parts)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
