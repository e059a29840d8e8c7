"""The ``llm-playback`` command line: list, show, verify, import, migrate and prune recordings.

A thin edge over the core: each command group is a module of this package; this one builds
the parser and runs a command. Commands return the exit code: 0 when all went well, 1 when
the command found problems, 2 for a command line argparse rejects. Problems are reported in
one line that names the file and the fix, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from replay.cli.cleanup import command_migrate, command_prune
from replay.cli.entries import DEFAULT_CACHE, DEFAULT_DIR, PROG, CommandError
from replay.cli.import_command import command_import
from replay.cli.listing import command_ls, command_show
from replay.cli.project_settings import find_project_settings
from replay.cli.verify import command_verify
from replay.core.secret_scan import mask_secrets
from replay.store.usage import CACHE_FILE


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
