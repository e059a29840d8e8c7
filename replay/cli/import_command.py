"""``llm-playback import-llama-stack``: llama-stack/OGX recorder files into the recordings folder
(``replay.importers``), with a summary by reason."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from replay.cli.entries import CommandError, counted, openai_needed
from replay.importers.batch import import_files
from replay.store.directory import DirectoryStore
from replay.store.usage import all_recordings


def command_import(args: argparse.Namespace) -> int:
    """Convert llama-stack/OGX recordings into this library's layout under ``--to``; exit 0
    only when nothing was lost."""
    folder = Path(args.to if args.to is not None else args.dir)
    with openai_needed():
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
        f"{counted(len(summary.outcomes), 'file')} read: {imported} {would}imported "
        f"({summary.count('merged')} of them model lists merged with others of the same "
        f"request), {summary.count('unchanged')} already there, "
        f"{summary.count('skipped')} skipped, "
        f"{counted(summary.count('clash'), 'clash', 'clashes')}; "
        f"{counted(summary.written, 'file')} {would}written under {folder}"
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
