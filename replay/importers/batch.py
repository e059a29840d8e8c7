"""Importing many llama-stack/OGX files into a recordings folder, safely in batches.

Each file's recording has one place: its test's scope (shared for model lists and files with no
test) and its request hash, with no repeat number, since an OGX recording already answers
every identical request of its test. So the result does not depend on how the files are
split into calls or in which order they come:

- a recording whose place holds the same exchange (up to ids and times) leaves it as it is;
- model lists of one request are merged into one, as OGX merges them at replay; merging again
  what is already there changes nothing;
- two different recordings for one place are a clash: the file there (or, within one call,
  the recording whose text sorts first) is kept, the other is reported and not written.

Nothing else is written, and every file not imported is counted by its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from replay.core.recording import Recording, dumps
from replay.core.redaction import Redaction
from replay.core.secret_scan import find_secrets
from replay.core.volatile import stable
from replay.errors import RecordingFileError
from replay.importers.llama_stack import (
    Imported,
    from_llama_stack,
    llama_stack_json,
    merged_model_list,
)
from replay.importers.not_importable import NotImportable
from replay.store.directory import DirectoryStore
from replay.store.file_reading import UnreadableFile, read_recording

Action = Literal["imported", "unchanged", "merged", "skipped", "clash"]


@dataclass(slots=True)
class Outcome:
    """What became of one source file."""

    source: Path
    action: Action
    destination: str | None = None
    reason: str = ""  # skipped: what kind of file it is; clash: what it clashed with
    detail: str = ""
    lost: bool = False  # whether leaving it out loses an exchange
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Summary:
    """Every source's outcome, in the order the sources were given."""

    outcomes: list[Outcome]
    written: int = 0  # files written (new, or a model list grown by a merge)

    def count(self, action: Action) -> int:
        return sum(outcome.action == action for outcome in self.outcomes)

    def skipped_by_reason(self) -> list[tuple[str, int, bool]]:
        """(reason, files, whether they are lost), most frequent first."""
        reasons = Counter(
            (outcome.reason, outcome.lost)
            for outcome in self.outcomes
            if outcome.action == "skipped"
        )
        return [(reason, n, lost) for (reason, lost), n in sorted(reasons.items(), key=_by_count)]

    @property
    def lost(self) -> bool:
        """Whether an exchange was left out: a clash, or a file skipped for a reason that
        loses one."""
        return any(outcome.lost or outcome.action == "clash" for outcome in self.outcomes)


def _by_count(item: tuple[tuple[str, bool], int]) -> tuple[int, str]:
    (reason, _), count = item
    return -count, reason


def import_files(sources: Sequence[Path], store: DirectoryStore, *, dry_run: bool) -> Summary:
    """Import ``sources`` into ``store`` (with ``dry_run``, decide the same and write nothing)."""
    run = _Import(store, dry_run)
    places: dict[tuple[str | None, str], list[tuple[Path, Imported]]] = {}
    patterns = Redaction().compiled
    for source in sources:
        try:
            imported = from_llama_stack(_read(source), str(source))
        except NotImportable as why:
            run.outcomes[source] = Outcome(
                source, "skipped", None, why.reason, why.detail, why.lost
            )
            continue
        secrets = find_secrets(dumps(imported.recording), patterns)
        if secrets:
            run.outcomes[source] = Outcome(
                source, "skipped", None, "it holds what looks like a secret",
                f"{'; '.join(secrets[:3])}: remove it from the file, then import it again",
                lost=True,
            )  # fmt: skip
            continue
        place = (imported.recording.test, imported.recording.key)
        places.setdefault(place, []).append((source, imported))
    for _, found in sorted(places.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        if found[0][1].model_list:
            run.merge_lists(found)
        else:
            run.place(found)
    run.summary.outcomes = [run.outcomes[source] for source in sources if source in run.outcomes]
    return run.summary


def _read(source: Path) -> Any:
    try:
        text = read_recording(source).decode("utf-8")
    except UnreadableFile as error:
        raise NotImportable("not a file this library reads", error.problem) from None
    except (OSError, UnicodeDecodeError) as error:
        raise NotImportable("it cannot be read", str(error)) from None
    return llama_stack_json(text)


class _Import:
    """One import: where it writes, and what became of each source so far."""

    def __init__(self, store: DirectoryStore, dry_run: bool) -> None:
        self.store = store
        self.dry_run = dry_run
        self.outcomes: dict[Path, Outcome] = {}
        self.summary = Summary([])

    def place(self, found: list[tuple[Path, Imported]]) -> None:
        """Keep one recording at a place: the file already there, else the candidate whose text
        sorts first; the others are unchanged duplicates of it or clashes."""
        found = sorted(found, key=lambda item: (dumps(item[1].recording), str(item[0])))
        first = found[0][1].recording
        destination = str(self.store.path(first.test, first.key, 0, first.endpoint))
        try:
            kept = self.store.get(first.test, first.key, 0, first.endpoint)
        except RecordingFileError as error:
            for source, _ in found:
                self.outcomes[source] = Outcome(
                    source, "clash", destination, "the file there cannot be read", error.problem
                )
            return
        held_by = "the file there" if kept is not None else None
        if kept is None:
            kept, source = first, found[0][0]
            if not self.dry_run:
                self.store.put(first, 0)
            self.summary.written += 1
            self.outcomes[source] = Outcome(
                source, "imported", destination, notes=found[0][1].notes
            )
            held_by = str(source)
            found = found[1:]
        for source, imported in found:
            if _same_exchange(kept, imported.recording):
                self.outcomes[source] = Outcome(source, "unchanged", destination)
            else:
                why = f"a different recording is kept there ({held_by})"
                fix = "not written: compare the two, and import the one the test should replay"
                self.outcomes[source] = Outcome(source, "clash", destination, why, fix)

    def merge_lists(self, found: list[tuple[Path, Imported]]) -> None:
        """Merge model lists of one request with the imported list already there, if any."""
        lists = [imported.recording for _, imported in found]
        first = lists[0]
        destination = str(self.store.path(None, first.key, 0, first.endpoint))
        problem: str | None = None
        try:
            kept = self.store.get(None, first.key, 0, first.endpoint)
        except RecordingFileError as error:
            kept, problem = None, error.problem
        else:
            if kept is not None and "imported_by" not in kept.recorded:
                problem = "it was not imported from llama-stack: merging would change a recording"
        if problem is not None:
            for source, _ in found:
                self.outcomes[source] = Outcome(
                    source, "clash", destination, "the file there is kept", problem
                )
            return
        merged = merged_model_list(lists + ([kept] if kept is not None else []))
        unchanged = kept is not None and dumps(kept) == dumps(merged)
        if not unchanged:
            if not self.dry_run:
                self.store.put(merged, 0)  # every model the file held is still in the merged list
            self.summary.written += 1
        action: Action = "imported"
        if unchanged:
            action = "unchanged"
        elif len(lists) + (kept is not None) > 1:
            action = "merged"
        for source, _ in found:
            self.outcomes[source] = Outcome(source, action, destination)


def _same_exchange(old: Recording, new: Recording) -> bool:
    """Whether two recordings record the same exchange, up to ids, times and what the
    ``recorded`` section says."""
    a, b = stable(old), stable(new)
    a.pop("recorded")
    b.pop("recorded")
    return a == b
