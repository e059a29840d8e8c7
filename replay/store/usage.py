"""What the last test run did with the recordings, and which recordings it left unused.

The plugin keeps it in pytest's cache (``config.cache``, key ``llm-playback/last-run``, the
file ``.pytest_cache/v/llm-playback/last-run``), never in the recordings folder, so nobody
commits it. It holds the outcome of every test that ran and the files each test read or
wrote, in order. ``complete`` is true only when the whole suite ran (no ``-k``/``-m``
selection, no deselection, no subset of files, not stopped early).

A recording is unused when its test ran, passed and did not ask for it; or, after a complete
run, when no test owns it any more (or, if shared, no test used it). A test that failed or
was skipped keeps its recordings. ``unused`` is pure: it takes the folder's paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replay.store.layout import owner_folder, scope_folder

CACHE_KEY = "llm-playback/last-run"
CACHE_FILE = Path("v") / CACHE_KEY  # under the pytest cache folder
# Where 0.1 kept it: read when a cache has no usage under the new key, until 0.3.
OLD_CACHE_FILE = Path("v") / "llm-replay" / "last-run"
USAGE_VERSION = 2
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Usage:
    """One run: whether it was the whole suite, each test's outcome and the recordings
    (paths relative to the recordings folder) each test used."""

    complete: bool
    outcomes: dict[str, str] = field(default_factory=dict)
    used_by: dict[str, list[str]] = field(default_factory=dict)
    shared_used: frozenset[str] = frozenset()  # used by code outside any test
    finished_at: str = ""
    recordings: str = ""  # the absolute path of the recordings folder

    @property
    def used(self) -> frozenset[str]:
        """Every recording the run read or wrote."""
        return self.shared_used.union(*self.used_by.values())

    def to_json(self) -> dict[str, Any]:
        """The cached document."""
        return {
            "version": USAGE_VERSION,
            "complete": self.complete,
            "finished_at": self.finished_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "recordings": self.recordings,
            "outcomes": dict(sorted(self.outcomes.items())),
            "used_by": dict(sorted(self.used_by.items())),
            "shared_used": sorted(self.shared_used),
        }

    @classmethod
    def from_json(cls, document: Any) -> Usage | None:
        """The usage a cached document holds; None when it is not one of this version."""
        if not isinstance(document, dict) or document.get("version") != USAGE_VERSION:
            return None
        outcomes, used_by = document.get("outcomes"), document.get("used_by")
        shared = document.get("shared_used")
        if not (
            isinstance(outcomes, dict)
            and all(isinstance(v, str) for v in outcomes.values())
            and isinstance(used_by, dict)
            and all(_strings(v) for v in used_by.values())
            and _strings(shared)
        ):
            return None
        return cls(
            bool(document.get("complete")),
            dict(outcomes),
            {test: list(paths) for test, paths in used_by.items()},
            frozenset(shared or ()),
            str(document.get("finished_at", "")),
            str(document.get("recordings", "")),
        )

    @classmethod
    def read(cls, cache_dir: Path) -> Usage | None:
        """The usage of the last run kept under a pytest cache folder, or None."""
        for name in (CACHE_FILE, OLD_CACHE_FILE):
            try:
                text = (cache_dir / name).read_text(encoding="utf-8")
            except OSError:
                continue
            try:
                return cls.from_json(json.loads(text))
            except ValueError:
                return None
        return None

    def unused(self, paths: list[str]) -> list[str]:
        """Which of ``paths`` (relative to the recordings folder) this run left unused."""
        used = self.used
        owners = {scope_folder(test): test for test in self.outcomes}
        unused = []
        for path in paths:
            if path in used:
                continue
            owner = owner_folder(path)
            test = owners.get(owner)
            if test is not None:
                if self.outcomes[test] == PASSED:
                    unused.append(path)
            elif self.complete:  # shared and used by none, or its test is gone
                unused.append(path)
        return unused


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def all_recordings(recordings: Path) -> list[Path]:
    """Every recording file under ``recordings`` (not hidden or temporary files)."""
    return sorted(
        path
        for path in recordings.rglob("*.json")
        if path.is_file() and not path.name.startswith(".")
    )
