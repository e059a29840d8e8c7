"""The ``llm-playback`` command line: list, show, verify, import, migrate and prune recordings.

A thin edge over the core. The pure parts take and return values: reassembling an answer
from its events (``replay.answer``), turning a llama-stack file into a recording
(``replay.llama_stack``), laying out a table (here). The commands around them read the folder,
print and return the exit code: 0 when all went well, 1 when the command found problems, 2 for
a command line argparse rejects. Problems are reported in one line that names the file and the
fix, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from replay import typed
from replay.answer import describe_response, indented, timing, usage_line
from replay.completeness import DONE, ends_with_done
from replay.errors import RecordingFileError
from replay.file_reading import UnreadableFile, read_recording
from replay.importing import import_files
from replay.layout import is_v1_path, relative_path, v1_path
from replay.project_settings import find_project_settings
from replay.recording import Recording, dumps, loads
from replay.replayable import body_problems
from replay.secrets import mask_secrets
from replay.store import DirectoryStore, write_atomic
from replay.usage import CACHE_FILE, Usage, all_recordings

PROG = "llm-playback"
DEFAULT_DIR = "recordings"
DEFAULT_CACHE = ".pytest_cache"
SHARED_LABEL = "(shared)"
OLD_USAGE_FILE = ".llm-replay-last-run.json"  # version 1 kept the usage in the folder
RECORD_HINT = "pytest --record-mode=missing"
_HEX = re.compile(r"[0-9a-f]{6,64}")
_REPEAT = re.compile(r"-([2-9]|[1-9][0-9]+)\.json$")  # the 2nd, 3rd ... identical request


class CommandError(Exception):
    """A command cannot go on; the message names the thing and the fix."""


@contextmanager
def _openai_needed() -> Iterator[None]:
    """Checking types imports openai: when it is missing, a CommandError with the install
    command instead of the ImportError."""
    try:
        yield
    except ImportError as error:
        raise CommandError(
            f"checking types needs the openai package ({error}): pip install openai"
        ) from None


# --- reading the folder ----------------------------------------------------------------


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
    name = _relative(path, folder)
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


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


# --- commands ------------------------------------------------------------------------------


def say(line: object = "") -> None:
    """Print a line with every key-shaped string masked: output may reach a CI log."""
    print(mask_secrets(str(line)))


def command_ls(args: argparse.Namespace) -> int:
    """A table of the recordings; unreadable files are listed with their problem."""
    folder = Path(args.dir)
    entries = folder_entries(folder)
    if not entries:
        say(f"no recordings in {folder}")
        return 0
    if args.k:
        entries = [entry for entry in entries if _selected(entry, args.k)]
        if not entries:
            say(f"no recording in {folder} belongs to a test matching {args.k!r}")
            return 0
    header = ["FILE", "TEST", "ENDPOINT", "MODEL", "STREAM", "EVENTS", "SIZE", "RECORDED"]
    rows = [header]
    for entry in entries:
        recording = entry.recording
        if recording is None:
            rows.append([entry.name, f"UNREADABLE: {entry.problem}"])
            continue
        rows.append(
            [
                entry.name,
                _test_of(recording),
                f"{recording.method} {recording.endpoint}",
                _model_of(recording),
                "yes" if recording.is_streaming else "no",
                str(len(recording.events)),
                human_size(entry.path.stat().st_size),
                str(recording.recorded.get("at") or "-"),
            ]
        )
    for line in table(rows):
        say(line)
    bad = sum(entry.recording is None for entry in entries)
    summary = f"{_count(len(entries), 'recording')} in {folder}"
    if bad:
        summary += f", {bad} unreadable: fix or delete them, then re-record with {RECORD_HINT}"
    say(summary)
    return 1 if bad else 0


def _selected(entry: Entry, name: str) -> bool:
    """Whether ``ls -k NAME`` lists this file: its test's id holds NAME (any case); an
    unreadable file is listed when its path does."""
    where = _test_of(entry.recording) if entry.recording is not None else entry.name
    return name.lower() in where.lower()


def _test_of(recording: Recording) -> str:
    return recording.test or SHARED_LABEL


def command_show(args: argparse.Namespace) -> int:
    """One recording: its request and the answer reassembled from its events."""
    folder = Path(args.dir)
    entry = find(args.target, folder)
    if entry.recording is None:
        raise CommandError(
            f"{entry.path}: {entry.problem}; fix the file or delete it and re-record with "
            f"{RECORD_HINT}"
        )
    recording = entry.recording
    say(entry.path)
    say(f"test:     {recording.test or SHARED_LABEL + ' any test may replay it'}")
    say(f"request:  {recording.method} {recording.endpoint}")
    say(f"model:    {_model_of(recording)}")
    say(f"hash:     {recording.key}")
    if recording.recorded:
        say(f"recorded: {_recorded_text(recording.recorded)}")
    if recording.body is not None:
        say("body:")
        for line in indented(json.dumps(recording.body, indent=2, ensure_ascii=False)):
            say(line)
    shape = (
        f"streamed, {_count(len(recording.events), 'event')}"
        if recording.is_streaming
        else "not streamed"
    )
    say(f"response: {recording.status} {recording.content_type}, {shape}")
    when = timing(recording.event_ms, recording.is_streaming)
    if when:
        say(f"timing:   {when}")
    tokens = usage_line(recording.events)
    if tokens:
        say(f"usage:    {tokens}")
    for line in describe_response(recording):
        say(line)
    return 0


def find(target: str, folder: Path) -> Entry:
    """The recording a FILE or HASH argument names; CommandError when none or several do."""
    for path in (Path(target), folder / target):
        if path.is_file():
            return read_entry(path, folder)
    prefix = target.lower()
    if not _HEX.fullmatch(prefix):
        raise CommandError(
            f"no file {target} (nor {folder / target}), and it is not a request hash: give a "
            "recording's path or at least 6 hex digits of its hash (see llm-playback ls)"
        )
    entries = folder_entries(folder)
    matches = [
        entry
        for entry in entries
        if entry.path.stem.startswith(prefix)
        or (entry.recording is not None and entry.recording.key.startswith(prefix))
    ]
    if not matches:
        raise CommandError(
            f"no recording in {folder} has a request hash starting with {prefix} "
            f"({_count(len(entries), 'recording')} searched); see llm-playback ls"
        )
    if len(matches) > 1:
        names = ", ".join(entry.name for entry in matches)
        raise CommandError(
            f"hash {prefix} is ambiguous in {folder}: {names}; give more hex digits or the "
            "file path"
        )
    return matches[0]


def command_verify(args: argparse.Namespace) -> int:
    """Load every recording, validate its typed objects, check it is where replay looks."""
    folder = Path(args.dir)
    named = verify_targets(args.paths, folder) if args.paths else None
    entries = folder_entries(folder) if named is None else named
    problems = 0
    for entry in entries:
        shown = entry.path
        found, warnings = check(entry)
        for problem in found:
            say(f"{shown}: {problem}")
        for warning in warnings:
            say(f"warning: {shown}: {warning}")
        problems += len(found)
    say(f"{_count(len(entries), 'recording')}, {_count(problems, 'problem')}")
    if problems:
        say(f"Fix or delete the files named above, then re-record them with {RECORD_HINT}")
    return 1 if problems else 0


def check(entry: Entry) -> tuple[list[str], list[str]]:
    """The problems and the warnings of one file of the folder."""
    recording = entry.recording
    if recording is None:
        return [str(entry.problem)], []
    problems: list[str] = []
    warnings: list[str] = []
    shape = body_problems(
        recording.events, recording.is_streaming, recording.content_type, recording.status
    )
    for index, problem in shape[:1]:
        more = f" (and {len(shape) - 1} more elements)" if len(shape) > 1 else ""
        where = f"response.body[{index}]" if recording.is_streaming else "response.body"
        problems.append(f"{where} {problem}{more}")
    with _openai_needed():
        failures = typed.invalid_elements(recording.events)
    if failures:
        index, problem = failures[0]
        more = f" (and {len(failures) - 1} more objects)" if len(failures) > 1 else ""
        problems.append(f"response.body[{index}] {problem}{more}")
    unchecked = {
        missing
        for element in recording.events
        if typed.is_typed(element) and (missing := typed.sdk_missing(element[typed.TYPE_KEY]))
    }
    warnings += sorted(unchecked)
    if not entry.native:
        warnings.append(
            "a llama-stack recording: replay never looks it up here; convert it with "
            f"{PROG} import-llama-stack {entry.path}"
        )
        return problems, warnings
    expected = _expected_place(entry.name, recording)
    if expected is not None:
        problems.append(
            f"replay looks for this request at {expected} (request hash {recording.key[:16]}); "
            "move the file there, or delete it and re-record"
        )
    if (
        recording.is_streaming
        and recording.content_type.startswith("text/event-stream")
        and ends_with_done(recording.endpoint)
        and recording.events
        and recording.events[-1] != DONE
        and typed.event_of(recording.events[-1])[0] not in typed.STREAM_END_EVENTS
    ):
        why = (
            "llama-stack kept the chunks the SDK parsed, not the marker"
            if "imported_by" in recording.recorded
            else "fine if the server ends its streams without one: the recorder saved it "
            "because the server ended it"
        )
        warnings.append(f"the stream has no {DONE} end marker ({why}); it replays as it is")
    return problems, warnings


def _expected_place(name: str, recording: Recording) -> str | None:
    """Where replay looks for this file's request, if not where it is; None if it is."""
    repeat = _REPEAT.search(name)
    index = int(repeat.group(1)) - 1 if repeat else 0
    if recording.test is None and is_v1_path(name):  # version 1's flat layout, read as shared
        expected = v1_path(recording.endpoint, recording.key, index)
    else:
        expected = relative_path(recording.test, recording.endpoint, recording.key, index)
    return None if name == expected else expected


def command_import(args: argparse.Namespace) -> int:
    """Convert llama-stack/OGX recordings into this library's layout under ``--to``; exit 0
    only when nothing was lost."""
    folder = Path(args.to if args.to is not None else args.dir)
    with _openai_needed():
        summary = import_files(sources(args.sources), DirectoryStore(folder), dry_run=args.dry_run)
    would = "would be " if args.dry_run else ""
    for outcome in summary.outcomes:
        source = outcome.source
        if outcome.action == "skipped":
            why = f"{outcome.reason} ({outcome.detail})" if outcome.detail else outcome.reason
            print(f"skipped {source}: {why}")
        elif outcome.action == "clash":
            print(f"clash {source} -> {outcome.destination}: {outcome.reason}; {outcome.detail}")
        else:
            print(f"{_IMPORT_WORDS[outcome.action]} {source} -> {outcome.destination}")
        for note in outcome.notes:
            print(f"  note: {note}")
    imported = summary.count("imported") + summary.count("merged")
    print(
        f"{_count(len(summary.outcomes), 'file')} read: {imported} {would}imported "
        f"({summary.count('merged')} of them model lists merged with others of the same "
        f"request), {summary.count('unchanged')} already there, "
        f"{summary.count('skipped')} skipped, "
        f"{_count(summary.count('clash'), 'clash', 'clashes')}; "
        f"{_count(summary.written, 'file')} {would}written under {folder}"
    )
    for reason, files, lost in summary.skipped_by_reason():
        print(f"  skipped {files:>5}: {reason}{'' if lost else ' (nothing lost)'}")
    if args.dry_run:
        print("dry run: nothing was written")
    return 1 if summary.lost else 0


_IMPORT_WORDS = {"imported": "imported", "merged": "merged", "unchanged": "unchanged"}


def sources(arguments: Sequence[str]) -> list[Path]:
    """The files named and the ``.json`` files under the folders named, in order, each once;
    CommandError before anything is written if one does not exist."""
    found: dict[Path, Path] = {}
    for argument in arguments:
        path = Path(argument)
        if not path.exists():
            raise CommandError(f"no file or folder {argument}: name llama-stack recordings")
        named = all_recordings(path) if path.is_dir() else [path]
        for file in named:
            if file.is_file():
                found.setdefault(file.resolve(), file)
    return list(found.values())


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
            f"keeping {_count(len(newer), 'recording')} written after the last run "
            f"({usage.finished_at}), which could not use them:"
        )
        print("\n".join(f"  {name}" for name in newer))
    if not unused:
        print(f"nothing to prune: the last run, {scope}, used every recording it could have")
        return 0
    if not args.yes:
        print(f"would delete {_count(len(unused), 'recording')} the last run "
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
            print(f"removed empty folder {_relative(parent, folder)}/")
            parent = parent.parent


def prune_plan(folder: Path, usage: Usage) -> tuple[list[str], list[str]]:
    """The recordings (relative to ``folder``) the run left unused, and those it could not
    have used because they were written after it ended: those are kept."""
    names = [_relative(path, folder) for path in recording_paths(folder)]
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
        f"migrated {_count(moved, 'version-1 recording')} in {folder}"
        + (f", {kept} places were taken already" if kept else "")
        + ". Run the suite to check that it replays, then commit the folder."
    )
    if left:
        print(
            f"left {_count(left, 'version-1 recording')} where they were (still replayed as "
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
    repeat = _REPEAT.search(name)
    return int(repeat.group(1)) - 1 if repeat else 0


def _written_after(path: Path, finished_at: str) -> bool:
    """Whether a file is newer than the run, so that the run could not have used it."""
    try:
        finished = datetime.fromisoformat(finished_at).timestamp()
    except ValueError:
        return False
    return path.stat().st_mtime > finished + 1  # the run's time is kept to the second


# --- small pure helpers ------------------------------------------------------------------


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


def _model_of(recording: Recording) -> str:
    model = recording.model
    if model is None and isinstance(recording.body, dict):
        model = recording.body.get("model")
    return str(model) if model else "-"


def _recorded_text(recorded: dict[str, Any]) -> str:
    parts = [str(recorded.get("at") or "time unknown")]
    if recorded.get("server"):
        model = f" ({recorded['server_model']})" if recorded.get("server_model") else ""
        parts.append(f"from {recorded['server']}{model}")
    if recorded.get("by"):
        parts.append(f"by {recorded['by']}")
    return " ".join(parts)


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


# --- where the recordings are ---------------------------------------------------------------


def configured_dir(start: Path) -> str:
    """The recordings folder of the pytest configuration found from ``start`` upward."""
    try:
        project = find_project_settings(start)
    except ValueError as error:
        raise CommandError(f"{error}; fix it, or pass --dir DIR") from None
    try:
        return str(project.recordings_dir.relative_to(start.resolve()))
    except ValueError:
        return str(project.recordings_dir)


def verify_targets(paths: Sequence[str], folder: Path) -> list[Entry]:
    """The recordings named on the command line, files or folders. Each is checked against
    the place replay looks for it: within the recordings folder when it lies inside it, else
    within the folder named, or for a lone file within its endpoint folder's parent."""
    entries: list[Entry] = []
    for argument in paths:
        path = Path(argument)
        if path.is_dir():
            root = folder if path.resolve().is_relative_to(folder.resolve()) else path
            files = all_recordings(path)
        elif path.is_file():
            root = folder if path.resolve().is_relative_to(folder.resolve()) else path.parent.parent
            files = [path]
        else:
            raise CommandError(f"no file or folder {argument}: name recordings to verify")
        for file in files:
            entry = read_entry(file.resolve(), root.resolve())
            entry.path = file  # shown as named
            entries.append(entry)
    return entries


# --- the parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``llm-playback`` parser, one subcommand per command."""
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument(
        "--dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"the recordings folder (default: {DEFAULT_DIR})",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look after the recordings of pytest-llm-playback.",
        epilog="Run 'llm-playback COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        default=None,
        help="the recordings folder (default: llm_replay_dir of the pytest configuration "
        f"found from here upward, as pytest finds it, else {DEFAULT_DIR})",
    )
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )

    def add(
        name: str, run: Callable[[argparse.Namespace], int], summary: str, description: str
    ) -> argparse.ArgumentParser:
        command = commands.add_parser(name, parents=[folder], help=summary, description=description)
        command.set_defaults(run=run)
        return command

    listing = add(
        "ls",
        command_ls,
        "list the recordings in a table",
        "List the recordings: file, the test that made it ((shared) for requests made "
        "outside a test and version-1 files), endpoint, model, streamed or not, number of "
        "events, size and when recorded. Unreadable files are listed with their problem "
        "(exit code 1).",
    )
    listing.add_argument(
        "-k",
        metavar="NAME",
        help="only the recordings of tests whose node id contains NAME (any case)",
    )
    show = add(
        "show",
        command_show,
        "print a recording's request and reassembled answer",
        "Print one recording: its request (method, endpoint, model, JSON body) and the answer "
        "put back together from its events, per choice when there are several; embeddings, "
        "model lists and HTTP errors are summed up. Exit code 1 if no recording or several "
        "match.",
    )
    show.add_argument(
        "target",
        metavar="FILE|HASH",
        help="a recording's path (or path within the folder), or 6+ hex digits of its hash",
    )
    verify = add(
        "verify",
        command_verify,
        "check every recording against the format and openai types",
        "Load every recording, validate each typed object against the installed openai types "
        "and check that each file is where replay looks for it. Exit code 1 if any problem.",
    )
    verify.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="recording files or folders to check (default: the whole recordings folder)",
    )
    imported = add(
        "import-llama-stack",
        command_import,
        "convert llama-stack recordings into this library's layout",
        "Convert llama-stack (OGX) recorder files into this library's layout: each into the "
        "folder of the test that made it (model lists shared and merged, as OGX does), keyed by "
        "the request the SDK sends. Safe to run again and in batches: a recording already there "
        "is left as it is, and a different one for the same place is reported as a clash, "
        "never written over it. Exit code 1 if an exchange was left out (a clash, or a file "
        "skipped for a reason that loses one); the summary counts them by reason.",
    )
    imported.add_argument(
        "sources",
        metavar="SRC",
        nargs="+",
        help="llama-stack recording files (JSON, or JSON copied out of a web page) or folders",
    )
    imported.add_argument(
        "--to", metavar="DIR", help="where to write the recordings (default: the --dir folder)"
    )
    imported.add_argument(
        "--dry-run", action="store_true", help="say what would be imported, and write nothing"
    )
    prune = add(
        "prune",
        command_prune,
        "delete recordings the last test run left unused",
        f"Delete the recordings the last test run left unused, as the plugin noted in pytest's "
        f"cache ({DEFAULT_CACHE}/{CACHE_FILE.as_posix()}): those of tests that passed without "
        "asking for them; after a run of the whole suite also those of tests that no longer "
        "exist and shared ones no test used. The recordings of a test that failed or was "
        "skipped are kept. Without --yes, only list them.",
    )
    prune.add_argument(
        "--yes", action="store_true", help="delete them (without it, only list what would go)"
    )
    migrate = add(
        "migrate",
        command_migrate,
        "move version-1 recordings into the layout by test",
        "Move version-1 recordings (DIR/<endpoint>/<hash>.json) into the layout by test "
        "(DIR/<test file>/<test name>/<endpoint>-<hash>.json), using the last complete test "
        "run's usage: a file goes to every test that used it; one no test used goes to "
        "DIR/_shared/. Says what it did. Run the whole suite once first.",
    )
    for command in (prune, migrate):
        command.add_argument(
            "--cache-dir",
            metavar="DIR",
            help=f"pytest's cache folder, where the plugin keeps the last run's usage "
            f"(default: {DEFAULT_CACHE} here, else beside the recordings folder)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code: 0 ok, 1 problems found, 2 a bad command line."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or argparse's usage error
        return stop.code if isinstance(stop.code, int) else 2
    try:
        if args.dir is None:
            args.dir = configured_dir(Path.cwd())
        return int(args.run(args))
    except CommandError as error:
        print(f"{PROG}: {mask_secrets(str(error))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (llm-playback ls | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
