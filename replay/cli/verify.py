"""``llm-playback verify``: every recording of a folder (or the files named) read, checked and
placed where its test would look for it; each problem one line naming the file and the fix."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from replay.cli.entries import (
    PROG,
    REPEAT,
    CommandError,
    Entry,
    counted,
    folder_entries,
    openai_needed,
    read_entry,
    say,
)
from replay.core import typed_events
from replay.core.completeness import DONE, ends_with_done
from replay.core.product import RECORD_HINT
from replay.core.recording import Recording
from replay.core.replayable import body_problems, raw_problems
from replay.store.layout import is_v1_path, relative_path, v1_path
from replay.store.usage import all_recordings


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
    say(f"{counted(len(entries), 'recording')}, {counted(problems, 'problem')}")
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
    problems += _first(shape, "response.body", recording.is_streaming, "more elements")
    if recording.raw is not None:
        disagree = raw_problems(
            recording.raw, recording.events, recording.is_streaming, recording.content_type
        )
        found = _first(disagree, "response.raw", recording.is_streaming, "more")
        problems += [f"{problem}: replay sends the raw bytes" for problem in found]
    with openai_needed():
        failures = typed_events.invalid_elements(recording.events)
    if failures:
        index, problem = failures[0]
        more = f" (and {len(failures) - 1} more objects)" if len(failures) > 1 else ""
        problems.append(f"response.body[{index}] {problem}{more}")
    unchecked = {
        missing
        for element in recording.events
        if typed_events.is_typed(element)
        and (missing := typed_events.sdk_missing(element[typed_events.TYPE_KEY]))
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
        and typed_events.event_of(recording.events[-1])[0] not in typed_events.STREAM_END_EVENTS
    ):
        why = (
            "llama-stack kept the chunks the SDK parsed, not the marker"
            if "imported_by" in recording.recorded
            else "fine if the server ends its streams without one: the recorder saved it "
            "because the server ended it"
        )
        warnings.append(f"the stream has no {DONE} end marker ({why}); it replays as it is")
    return problems, warnings


def _first(found: list[tuple[int, str]], field: str, streamed: bool, others: str) -> list[str]:
    """The first of ``found`` (index, problem) as a line that names its place in ``field``
    and counts the rest; none when nothing was found."""
    if not found:
        return []
    index, problem = found[0]
    more = f" (and {len(found) - 1} {others})" if len(found) > 1 else ""
    return [f"{field}[{index}] {problem}{more}" if streamed else f"{field} {problem}{more}"]


def _expected_place(name: str, recording: Recording) -> str | None:
    """Where replay looks for this file's request, if not where it is; None if it is."""
    repeat = REPEAT.search(name)
    index = int(repeat.group(1)) - 1 if repeat else 0
    if recording.test is None and is_v1_path(name):  # version 1's flat layout, read as shared
        expected = v1_path(recording.endpoint, recording.key, index)
    else:
        expected = relative_path(recording.test, recording.endpoint, recording.key, index)
    return None if name == expected else expected


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
