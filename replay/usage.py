"""Which recordings the last full test run used: ``<recordings>/.llm-replay-last-run.json``.

Written by the plugin at the end of a session that read or wrote recordings; read by
``llm-playback prune`` and by the session report. ``complete`` is true only when the whole suite
ran (no ``-k``/``-m`` selection, no deselection, no subset of files, not stopped early).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from replay.store import write_atomic

USAGE_FILE = ".llm-replay-last-run.json"
USAGE_VERSION = 1


@dataclass(frozen=True)
class Usage:
    """The recordings (paths relative to the recordings folder) one run used."""

    complete: bool
    used: frozenset[str]
    finished_at: str = ""

    def write(self, recordings: Path) -> None:
        """Keep this usage in ``recordings``."""
        document = {
            "version": USAGE_VERSION,
            "complete": self.complete,
            "finished_at": self.finished_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "used": sorted(self.used),
        }
        write_atomic(recordings / USAGE_FILE, json.dumps(document, indent=2) + "\n")

    @classmethod
    def read(cls, recordings: Path) -> Usage | None:
        """The usage of the last run, or None if there is none (or it is unreadable)."""
        try:
            document = json.loads((recordings / USAGE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("version") != USAGE_VERSION:
            return None
        used = document.get("used")
        if not isinstance(used, list) or not all(isinstance(path, str) for path in used):
            return None
        return cls(
            bool(document.get("complete")), frozenset(used), str(document.get("finished_at", ""))
        )


def all_recordings(recordings: Path) -> list[Path]:
    """Every recording file under ``recordings`` (not the usage file, not temporary files)."""
    return sorted(
        path
        for path in recordings.rglob("*.json")
        if path.is_file() and not path.name.startswith(".")
    )
