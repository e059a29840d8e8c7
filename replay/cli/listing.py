"""``llm-playback ls`` and ``llm-playback show``: the recordings of a folder, one line each, and
one recording in full (its request, its answer, its timing)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from replay.cli.describe import describe_response, indented, timing, usage_line
from replay.cli.entries import (
    HEX,
    SHARED_LABEL,
    CommandError,
    Entry,
    counted,
    folder_entries,
    human_size,
    model_of,
    read_entry,
    recorded_text,
    say,
    table,
    test_of,
)
from replay.core.product import RECORD_HINT


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
                test_of(recording),
                f"{recording.method} {recording.endpoint}",
                model_of(recording),
                "yes" if recording.is_streaming else "no",
                str(len(recording.events)),
                human_size(entry.path.stat().st_size),
                str(recording.recorded.get("at") or "-"),
            ]
        )
    for line in table(rows):
        say(line)
    bad = sum(entry.recording is None for entry in entries)
    summary = f"{counted(len(entries), 'recording')} in {folder}"
    if bad:
        summary += f", {bad} unreadable: fix or delete them, then re-record with {RECORD_HINT}"
    say(summary)
    return 1 if bad else 0


def _selected(entry: Entry, name: str) -> bool:
    """Whether ``ls -k NAME`` lists this file: its test's id holds NAME (any case); an
    unreadable file is listed when its path does."""
    where = test_of(entry.recording) if entry.recording is not None else entry.name
    return name.lower() in where.lower()


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
    say(f"model:    {model_of(recording)}")
    say(f"hash:     {recording.key}")
    if recording.recorded:
        say(f"recorded: {recorded_text(recording.recorded)}")
    if recording.body is not None:
        say("body:")
        for line in indented(json.dumps(recording.body, indent=2, ensure_ascii=False)):
            say(line)
    shape = (
        f"streamed, {counted(len(recording.events), 'event')}"
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
    if not HEX.fullmatch(prefix):
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
            f"({counted(len(entries), 'recording')} searched); see llm-playback ls"
        )
    if len(matches) > 1:
        names = ", ".join(entry.name for entry in matches)
        raise CommandError(
            f"hash {prefix} is ambiguous in {folder}: {names}; give more hex digits or the "
            "file path"
        )
    return matches[0]
