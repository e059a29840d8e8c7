"""``llm-playback prune`` and ``llm-playback migrate``: removing the recordings the last whole run
left unused, and moving version-1 recordings into the folders of the tests that used them.
Both read the last run's usage (``replay.store.usage``) and never touch a file they did not
write or that a test still needs."""

from __future__ import annotations

import argparse
import shlex
from datetime import datetime
from pathlib import Path

from replay.cli.entries import (
    DEFAULT_CACHE,
    DEFAULT_DIR,
    OLD_USAGE_FILE,
    PROG,
    REPEAT,
    CommandError,
    Entry,
    counted,
    folder_entries,
    recording_paths,
    relative_name,
)
from replay.core.recording import dumps
from replay.store.directory import write_atomic
from replay.store.layout import is_v1_path, relative_path
from replay.store.usage import CACHE_FILE, Usage


def last_run(args: argparse.Namespace, folder: Path) -> Usage:
    """The usage of the last test run over ``folder``, from pytest's cache (``--cache-dir``,
    else the one beside the folder, else the one here); CommandError saying how to make one
    when there is none."""
    beside = folder.resolve().parent / DEFAULT_CACHE
    candidates = [Path(args.cache_dir)] if args.cache_dir else [beside, Path(DEFAULT_CACHE)]
    others = []
    for cache in dict.fromkeys(candidates):  # each once, in order
        usage = Usage.read(cache)
        if usage is None:
            continue
        if not usage.recordings or Path(usage.recordings) == folder.resolve():
            return usage
        others.append(f"the last run in {cache} used the recordings in {usage.recordings}")
    if others:
        raise CommandError(
            f"{'; '.join(others)}, not {folder}: pass that --dir, or run pytest on {folder} first"
        )
    tried = " nor ".join(str(cache / CACHE_FILE) for cache in dict.fromkeys(candidates))
    raise CommandError(
        f"no usage of a test run in {tried}: run the suite first (pytest, from the rootdir "
        "whose .pytest_cache it writes), or pass --cache-dir"
    )


def command_prune(args: argparse.Namespace) -> int:
    """Delete the recordings the last test run left unused (dry run by default): those of
    tests that ran, passed and did not ask for them; after a complete run also those of tests
    that are gone, and shared ones no test used."""
    folder = Path(args.dir)
    usage = last_run(args, folder)
    unused, newer = prune_plan(folder, usage)
    scope = "complete" if usage.complete else "partial (only the tests it ran are judged)"
    if newer:
        print(
            f"keeping {counted(len(newer), 'recording')} written after the last run "
            f"({usage.finished_at}), which could not use them:"
        )
        print("\n".join(f"  {name}" for name in newer))
    if not unused:
        print(f"nothing to prune: the last run, {scope}, used every recording it could have")
        return 0
    if not args.yes:
        print(f"would delete {counted(len(unused), 'recording')} the last run "
              f"({usage.finished_at}, {scope}) did not use:")  # fmt: skip
        print("\n".join(f"  {name}" for name in unused))
        again = f" --dir {shlex.quote(args.dir)}" if args.dir != DEFAULT_DIR else ""
        print(f"To delete them, run: {PROG}{again} prune --yes")
        return 0
    for name in unused:
        (folder / name).unlink()
        print(f"deleted {name}")
    _remove_empty_folders(folder, {(folder / name).parent for name in unused})
    return 0


def _remove_empty_folders(folder: Path, emptied: set[Path]) -> None:
    for parent in sorted(emptied, reverse=True):
        while parent != folder and folder in parent.parents and not any(parent.iterdir()):
            parent.rmdir()
            print(f"removed empty folder {relative_name(parent, folder)}/")
            parent = parent.parent


def prune_plan(folder: Path, usage: Usage) -> tuple[list[str], list[str]]:
    """The recordings (relative to ``folder``) the run left unused, and those it could not
    have used because they were written after it ended: those are kept."""
    names = [relative_name(path, folder) for path in recording_paths(folder)]
    unused: list[str] = []
    newer: list[str] = []
    for name in usage.unused(names):
        (newer if _written_after(folder / name, usage.finished_at) else unused).append(name)
    return unused, newer


def command_migrate(args: argparse.Namespace) -> int:
    """Move a version-1 folder (flat, files named by hash) into the layout by test: each file
    goes to the folder of every test that used it in the last run, at the place that test
    looks for it. A file no test used goes to the shared scope after a run of the whole suite,
    and stays where it is (still read as shared) after a partial run."""
    folder = Path(args.dir)
    entries = [
        entry
        for entry in folder_entries(folder)
        if entry.recording is not None and entry.native and is_v1_path(entry.name)
        and entry.recording.test is None
    ]  # fmt: skip
    if not entries:
        print(f"nothing to migrate: no version-1 recording in {folder}")
        return 0
    usage = last_run(args, folder)
    places = migration_plan(entries, usage)
    moved = kept = left = 0
    for entry in entries:
        recording = entry.recording
        assert recording is not None  # filtered above
        if entry.name not in places and not usage.complete:
            left += 1  # a test the run did not include may use it: it stays as it is
            continue
        targets = places.get(entry.name) or [(None, _repeat_index(entry.name))]
        for test, index in targets:
            target = relative_path(test, recording.endpoint, recording.key, index)
            if (folder / target).exists():
                print(f"kept {target}: it exists already; {entry.name} not copied there")
                kept += 1
                continue
            recording.test = test
            write_atomic(folder / target, dumps(recording))
            owner = test or "shared: no test of the last run used it"
            print(f"{entry.name} -> {target}  ({owner})")
        entry.path.unlink()
        moved += 1
    _remove_empty_folders(folder, {entry.path.parent for entry in entries})
    old_usage = folder / OLD_USAGE_FILE
    if old_usage.exists():
        old_usage.unlink()
        print(f"deleted {OLD_USAGE_FILE} (the usage lives in pytest's cache now)")
    print(
        f"migrated {counted(moved, 'version-1 recording')} in {folder}"
        + (f", {kept} places were taken already" if kept else "")
        + ". Run the suite to check that it replays, then commit the folder."
    )
    if left:
        print(
            f"left {counted(left, 'version-1 recording')} where they were (still replayed as "
            f"shared): the last run ({usage.finished_at}) was not the whole suite and did not "
            f"use them. Run the whole suite, then {PROG} migrate again to place them."
        )
    return 0


def migration_plan(entries: list[Entry], usage: Usage) -> dict[str, list[tuple[str | None, int]]]:
    """For each version-1 file (by name), the tests that used it and the repeat number each
    asked for it as: the k-th request of one hash within a test is its k-th recording."""
    names = {entry.name for entry in entries}
    keys = {entry.name: entry.recording.key for entry in entries if entry.recording}
    places: dict[str, list[tuple[str | None, int]]] = {}
    for test, paths in sorted(usage.used_by.items()):
        seen: dict[str, int] = {}
        for path in paths:
            if path not in names:
                continue
            index = seen.get(keys[path], 0)
            seen[keys[path]] = index + 1
            place = (test, index)
            if place not in places.setdefault(path, []):
                places[path].append(place)
    return places


def _repeat_index(name: str) -> int:
    repeat = REPEAT.search(name)
    return int(repeat.group(1)) - 1 if repeat else 0


def _written_after(path: Path, finished_at: str) -> bool:
    """Whether a file is newer than the run, so that the run could not have used it."""
    try:
        finished = datetime.fromisoformat(finished_at).timestamp()
    except ValueError:
        return False
    return path.stat().st_mtime > finished + 1  # the run's time is kept to the second
