"""The ``llm-replay`` command line: list, show, verify, import and prune recordings.

A thin edge over the core. The pure parts (reassembling an answer from its events, turning a
llama-stack file into a recording, laying out a table) take and return values; the commands
around them read the folder, print and return the exit code: 0 when all went well, 1 when the
command found problems, 2 for a command line argparse rejects. Problems are reported in one
line that names the file and the fix, never as a traceback.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replay import typed
from replay.errors import RecordingFileError
from replay.keys import normalize_endpoint
from replay.recorder import DONE, LIBRARY
from replay.recording import Recording, from_json, loads
from replay.store import DirectoryStore, endpoint_folder, file_name
from replay.usage import USAGE_FILE, Usage, all_recordings

PROG = "llm-replay"
DEFAULT_DIR = "recordings"
RECORD_HINT = "pytest --record-mode=missing"
# Keyword arguments of the SDK's create() that are not body fields.
_CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
_HEX = re.compile(r"[0-9a-f]{6,64}")
_REPEAT = re.compile(r"-([2-9]|[1-9][0-9]+)\.json$")  # the 2nd, 3rd ... identical request


class CommandError(Exception):
    """A command cannot go on; the message names the thing and the fix."""


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
        data = path.read_bytes()
        recording = loads(data, str(path))
    except RecordingFileError as error:
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
    return all_recordings(folder)


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


# --- answers: what a response says, reassembled from its events --------------------------


@dataclass(slots=True)
class ToolCall:
    """A function call a choice asked for; streamed arguments arrive in pieces."""

    name: str = ""
    arguments: str = ""


@dataclass(slots=True)
class Answer:
    """The reassembled output of one choice."""

    text: str = ""
    tool_calls: dict[int, ToolCall] = field(default_factory=dict)
    finish_reason: str | None = None


def answers(events: Sequence[Any]) -> dict[int, Answer]:
    """Per choice index, the text and tool calls of chat and text completions: streamed
    ``delta.content``, whole ``message.content`` or completion ``text``, in event order."""
    found: dict[int, Answer] = {}
    for value in payloads(events):
        choices = value.get("choices")
        if not isinstance(choices, list):
            continue
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            answer = found.setdefault(index if isinstance(index, int) else 0, Answer())
            part = choice.get("delta", choice.get("message"))
            if isinstance(part, dict):
                answer.text += _text(part.get("content"))
                _add_tool_calls(answer, part.get("tool_calls"))
            else:
                answer.text += _text(choice.get("text"))
            if isinstance(choice.get("finish_reason"), str):
                answer.finish_reason = choice["finish_reason"]
    return dict(sorted(found.items()))


def payloads(events: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a response, typed envelopes opened, ``[DONE]`` left out."""
    for element in events:
        value = typed.payload(element)
        if isinstance(value, dict):
            yield value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(part["text"] for part in value if isinstance(part, dict) and "text" in part)
    return ""


def _add_tool_calls(answer: Answer, calls: Any) -> None:
    if not isinstance(calls, list):
        return
    for position, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        index = call.get("index")
        tool = answer.tool_calls.setdefault(
            index if isinstance(index, int) else position, ToolCall()
        )
        function = call.get("function")
        if isinstance(function, dict):
            tool.name = function.get("name") or tool.name
            tool.arguments += _text(function.get("arguments"))


def describe_response(recording: Recording) -> list[str]:
    """What the response says, in lines: the answer per choice, the vectors of embeddings,
    the ids of a model list, or the status and message of an error."""
    events = recording.events
    if recording.status >= 400:
        body = typed.payload(events[0]) if events else None
        return [f"error:    HTTP {recording.status}: {error_message(body)}"]
    lines = [
        f"error:    in the stream: {error_message(value)}"
        for value in payloads(events)
        if "error" in value and "choices" not in value
    ]
    found = answers(events)
    if found:
        return lines + _answer_lines(found)
    first = next(payloads(events), None)
    if first is None:
        return [*lines, "answer:   (the response holds no JSON object)"]
    data = first.get("data")
    if isinstance(data, list) and (
        recording.endpoint.endswith("/embeddings")
        or any(isinstance(item, dict) and "embedding" in item for item in data)
    ):
        return lines + _embedding_lines(data)
    if isinstance(data, list):
        ids = [str(item.get("id")) for item in data if isinstance(item, dict)]
        return [*lines, f"models:   {len(ids)}: {', '.join(ids) if ids else '(none)'}"]
    if first.get("object") == "model":
        return [*lines, f"model:    {first.get('id')}"]
    return [*lines, "answer:   (no choices, embeddings or models in the response)"]


def error_message(body: Any) -> str:
    """The message of an error body, whichever of the usual shapes it has."""
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                return str(value.get("message") or json.dumps(value, ensure_ascii=False))
            if value is not None:
                return str(value)
        return json.dumps(body, ensure_ascii=False)
    return str(body) if body is not None else "(empty body)"


def _answer_lines(found: dict[int, Answer]) -> list[str]:
    lines = []
    for index, answer in found.items():
        label = f"answer, choice {index}" if len(found) > 1 else "answer"
        finish = f" (finish_reason: {answer.finish_reason})" if answer.finish_reason else ""
        lines.append(f"{label}{finish}:")
        if answer.text:
            lines += indented(answer.text)
        for tool in answer.tool_calls.values():
            lines.append(f"  tool call: {tool.name}({tool.arguments})")
        if not answer.text and not answer.tool_calls:
            lines.append("  (no text)")
    return lines


def _embedding_lines(data: list[Any]) -> list[str]:
    shapes = [
        vector_shape(item.get("embedding")) if isinstance(item, dict) else "not an object"
        for item in data
    ]
    count = f"{len(shapes)} vector{'s' if len(shapes) != 1 else ''}"
    if len(set(shapes)) == 1:
        return [f"embeddings: {count}, {'each ' if len(shapes) > 1 else ''}{shapes[0]}"]
    return [f"embeddings: {count}"] + [f"  [{i}] {shape}" for i, shape in enumerate(shapes)]


def vector_shape(embedding: Any) -> str:
    """How long a vector is: numbers, base64 floats, or one vector per token."""
    if isinstance(embedding, str):
        try:
            return f"{len(base64.b64decode(embedding, validate=True)) // 4} numbers (base64)"
        except (binascii.Error, ValueError):
            return "a string that is not base64"
    if isinstance(embedding, list):
        if embedding and all(isinstance(row, list) for row in embedding):
            return f"{len(embedding)} x {len(embedding[0])} numbers (one vector per token)"
        return f"{len(embedding)} numbers"
    return f"not a vector ({type(embedding).__name__})"


def timing(event_ms: Sequence[float] | None, is_streaming: bool) -> str | None:
    """Time to first event and the rate of events after it, from ``event_ms``."""
    if not event_ms:
        return None
    if not is_streaming:
        return f"response after {event_ms[0]:.0f} ms"
    text = f"first event after {event_ms[0]:.0f} ms"
    span = (event_ms[-1] - event_ms[0]) / 1000
    if len(event_ms) > 1 and span > 0:
        text += f", then {(len(event_ms) - 1) / span:.1f} events/s over {span:.2f} s"
    return text


def usage_line(events: Sequence[Any]) -> str | None:
    """Token counts, from the last object that carries them."""
    counted = [value["usage"] for value in payloads(events) if isinstance(value.get("usage"), dict)]
    if not counted:
        return None
    usage = counted[-1]
    parts = [
        f"{label} {usage[name]}"
        for name, label in (
            ("prompt_tokens", "prompt"),
            ("completion_tokens", "completion"),
            ("total_tokens", "total"),
        )
        if name in usage
    ]
    return f"{', '.join(parts)} tokens" if parts else None


def indented(text: str, prefix: str = "  ") -> list[str]:
    """Every line of ``text`` behind ``prefix``, empty lines included."""
    return [prefix + line for line in text.split("\n")]


# --- llama-stack files --------------------------------------------------------------------


class NotImportable(Exception):
    """A llama-stack file that cannot become a recording; the message says why."""


def llama_stack_json(text: str) -> Any:
    """The JSON of a llama-stack file, also when it was copied out of a web page: a header
    before the first line ``{`` and lines holding only ``|`` are dropped."""
    try:
        return json.loads(text)
    except ValueError as error:
        lines = text.splitlines()
        if "{" not in lines:
            raise NotImportable(f"not JSON ({error})") from None
        kept = [line for line in lines[lines.index("{") :] if line != "|"]
        try:
            return json.loads("\n".join(kept))
        except ValueError as page_error:
            raise NotImportable(f"not JSON, nor a page copy of JSON ({page_error})") from None


def from_llama_stack(document: Any, source: str) -> tuple[Recording, list[str]]:
    """A recording of the request the openai SDK sends, from a llama-stack recorder file,
    and notes on objects kept as plain JSON. Raises NotImportable with the reason."""
    if not isinstance(document, dict):
        raise NotImportable("not a llama-stack recording (the top level is not an object)")
    if "version" in document:
        raise NotImportable(
            "already a pytest-llm-replay recording (it has a version); copy it instead"
        )
    request, response = document.get("request"), document.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise NotImportable("not a llama-stack recording (no request and response objects)")
    if "tool_name" in request:
        raise NotImportable(
            f"a llama-stack tool call ({request.get('provider')}.{request['tool_name']}), "
            "not an HTTP exchange"
        )
    exception = recorded_exception(response)
    if exception is not None:
        raise NotImportable(
            f"a recorded exception ({exception}), not a server response; record this "
            f"exchange with {RECORD_HINT}"
        )
    request, response = dict(request), dict(response)
    where = request.get("endpoint") or request.get("url")
    endpoint = normalize_endpoint(where) if isinstance(where, str) else ""
    if endpoint and not re.match(r"/v\d+/", endpoint):
        raise NotImportable(f"an exchange with {endpoint}, not an OpenAI-compatible endpoint")
    if isinstance(request.get("body"), dict):
        request["body"] = sdk_body(request["body"], endpoint)
    if endpoint.endswith("/models") and isinstance(response.get("body"), list):
        # llama-stack keeps the models the SDK iterated over; the server sent one list page.
        models = [typed.payload(element) for element in response["body"]]
        response["body"] = typed.encode({"object": "list", "data": models}, "/v1/models")
        request["method"], request["body"] = "GET", None
    try:
        recording = from_json({"request": request, "response": response}, source)
    except RecordingFileError as error:
        raise NotImportable(error.problem) from None
    notes = _typed_events(recording)
    first = next(payloads(recording.events), {})
    parts = urlsplit(recording.url)
    recorded = {
        "by": "llama-stack recorder",
        "server": f"{parts.scheme}://{parts.netloc}" if parts.netloc else None,
        "server_model": first.get("model"),
        "imported_by": f"{PROG} import-llama-stack ({LIBRARY})",
    }
    if isinstance(document.get("test_id"), str):
        recorded["test_id"] = document["test_id"]
    recording.recorded = recorded
    return recording, notes


def sdk_body(body: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The body the openai SDK sends for the keyword arguments llama-stack recorded:
    ``extra_body`` merged in, client-side options left out, and the ``encoding_format``
    that ``embeddings.create`` adds when none is given."""
    sent = {key: value for key, value in body.items() if key not in _CLIENT_OPTIONS}
    if isinstance(body.get("extra_body"), dict):
        sent |= body["extra_body"]
    if endpoint.endswith("/embeddings") and "encoding_format" not in sent:
        sent["encoding_format"] = "base64"
    return sent


def recorded_exception(response: dict[str, Any]) -> str | None:
    """What a llama-stack response that recorded a raised exception says, or None."""
    body = response.get("body")
    if response.get("is_exception") or "exception" in response:
        return _exception_text(response.get("exception") or body)
    for element in body if isinstance(body, list) else [body]:
        if not isinstance(element, dict):
            continue
        for key in ("__exception__", "exception", "exception_type"):
            if key in element:
                return _exception_text(element[key] if key != "exception_type" else element)
        name = element.get(typed.TYPE_KEY)
        if isinstance(name, str) and re.search(r"(Error|Exception)$|exceptions?\.", name):
            return _exception_text(element)
    return None


def _exception_text(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    data = value.get(typed.DATA_KEY, value)
    data = data if isinstance(data, dict) else {"message": data}
    name = value.get(typed.TYPE_KEY) or data.get("type") or data.get("exception_type")
    message = data.get("message") or data.get("detail") or data.get("args") or ""
    status = data.get("status_code")
    return ": ".join(
        str(part)
        for part in (name or "exception", f"HTTP {status}" if status else "", message)
        if part
    )


def _typed_events(recording: Recording) -> list[str]:
    """Type plain objects as the recorder does, and keep as plain JSON what does not
    validate against its type; say which."""
    notes = []
    for index, element in enumerate(recording.events):
        if not typed.is_typed(element):
            element = typed.encode(element, recording.endpoint)
            if not typed.is_typed(element):
                continue
        problem = validate(element)
        if problem is None:
            recording.events[index] = element
        else:
            recording.events[index] = typed.payload(element)
            notes.append(f"response.body[{index}] {problem}; kept as plain JSON")
    return notes


def validate(element: dict[str, Any]) -> str | None:
    """``typed.validate``, with the install command when openai is missing."""
    try:
        return typed.validate(element)
    except ImportError as error:
        raise CommandError(
            f"checking types needs the openai package ({error}): pip install openai"
        ) from None


# --- commands ------------------------------------------------------------------------------


def command_ls(args: argparse.Namespace) -> int:
    """A table of the recordings; unreadable files are listed with their problem."""
    folder = Path(args.dir)
    entries = folder_entries(folder)
    if not entries:
        print(f"no recordings in {folder}")
        return 0
    header = ["FILE", "ENDPOINT", "MODEL", "STREAM", "EVENTS", "SIZE", "RECORDED"]
    rows = [header]
    for entry in entries:
        recording = entry.recording
        if recording is None:
            rows.append([entry.name, f"UNREADABLE: {entry.problem}"])
            continue
        rows.append(
            [
                entry.name,
                f"{recording.method} {recording.endpoint}",
                _model_of(recording),
                "yes" if recording.is_streaming else "no",
                str(len(recording.events)),
                human_size(entry.path.stat().st_size),
                str(recording.recorded.get("at") or "-"),
            ]
        )
    for line in table(rows):
        print(line)
    bad = sum(entry.recording is None for entry in entries)
    summary = f"{_count(len(entries), 'recording')} in {folder}"
    if bad:
        summary += f", {bad} unreadable: fix or delete them, then re-record with {RECORD_HINT}"
    print(summary)
    return 1 if bad else 0


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
    print(entry.path)
    print(f"request:  {recording.method} {recording.endpoint}")
    print(f"model:    {_model_of(recording)}")
    print(f"hash:     {recording.key}")
    if recording.recorded:
        print(f"recorded: {_recorded_text(recording.recorded)}")
    if recording.body is not None:
        print("body:")
        for line in indented(json.dumps(recording.body, indent=2, ensure_ascii=False)):
            print(line)
    shape = (
        f"streamed, {_count(len(recording.events), 'event')}"
        if recording.is_streaming
        else "not streamed"
    )
    print(f"response: {recording.status} {recording.content_type}, {shape}")
    when = timing(recording.event_ms, recording.is_streaming)
    if when:
        print(f"timing:   {when}")
    tokens = usage_line(recording.events)
    if tokens:
        print(f"usage:    {tokens}")
    for line in describe_response(recording):
        print(line)
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
            "recording's path or at least 6 hex digits of its hash (see llm-replay ls)"
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
            f"({_count(len(entries), 'recording')} searched); see llm-replay ls"
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
    entries = folder_entries(folder)
    problems = 0
    for entry in entries:
        shown = folder / entry.name
        found, warnings = check(entry)
        for problem in found:
            print(f"{shown}: {problem}")
        for warning in warnings:
            print(f"warning: {shown}: {warning}")
        problems += len(found)
    print(f"{_count(len(entries), 'recording')}, {_count(problems, 'problem')}")
    if problems:
        print(f"Fix or delete the files named above, then re-record them with {RECORD_HINT}")
    return 1 if problems else 0


def check(entry: Entry) -> tuple[list[str], list[str]]:
    """The problems and the warnings of one file of the folder."""
    recording = entry.recording
    if recording is None:
        return [str(entry.problem)], []
    problems: list[str] = []
    warnings: list[str] = []
    failures = [
        (index, problem)
        for index, element in enumerate(recording.events)
        if typed.is_typed(element) and (problem := validate(element)) is not None
    ]
    if failures:
        index, problem = failures[0]
        more = f" (and {len(failures) - 1} more objects)" if len(failures) > 1 else ""
        problems.append(f"response.body[{index}] {problem}{more}")
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
        and recording.events
        and recording.events[-1] != DONE
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
    expected = f"{endpoint_folder(recording.endpoint)}/{file_name(recording.key, index)}"
    return None if name == expected else expected


def command_import(args: argparse.Namespace) -> int:
    """Convert llama-stack recordings into this library's layout under ``--to``."""
    store = DirectoryStore(args.to if args.to is not None else args.dir)
    seen: dict[str, int] = {}
    skipped = 0
    for source in sources(args.sources):
        try:
            document = llama_stack_json(source.read_text(encoding="utf-8"))
            recording, notes = from_llama_stack(document, str(source))
        except NotImportable as error:
            print(f"skipped {source}: {error}")
            skipped += 1
            continue
        except (OSError, UnicodeDecodeError) as error:
            print(f"skipped {source}: cannot be read ({error})")
            skipped += 1
            continue
        index = seen.get(recording.key, 0)
        seen[recording.key] = index + 1
        destination = store.put(recording, index)
        print(f"imported {source} -> {destination}")
        for note in notes:
            print(f"  note: {note}")
    if skipped:
        print(f"{_count(skipped, 'file')} skipped, for the reasons given above")
    return 1 if skipped else 0


def sources(arguments: Sequence[str]) -> list[Path]:
    """The files named and the ``.json`` files under the folders named, in order, each once;
    CommandError before anything is written if one does not exist."""
    found: dict[Path, Path] = {}
    for argument in arguments:
        path = Path(argument)
        if not path.exists():
            raise CommandError(f"no file or folder {argument}: name llama-stack recordings")
        named = [path]
        if path.is_dir():
            named = sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))
        for file in named:
            if file.is_file():
                found.setdefault(file.resolve(), file)
    return list(found.values())


def command_prune(args: argparse.Namespace) -> int:
    """Delete the recordings the last complete test run did not use (dry run by default)."""
    folder = Path(args.dir)
    usage = Usage.read(folder)
    if usage is None or not usage.complete:
        why = (
            f"no readable {folder / USAGE_FILE}"
            if usage is None
            else f"the last run ({usage.finished_at or 'time unknown'}) ran a selection of tests"
        )
        raise CommandError(
            f"will not prune: {why}, so unused recordings cannot be told apart. Run the whole "
            "suite first (pytest with no -k, -m or test selection), then llm-replay prune"
        )
    unused, newer = prune_plan(folder, usage)
    if newer:
        print(
            f"keeping {_count(len(newer), 'recording')} written after the last complete run "
            f"({usage.finished_at}), which could not use them:"
        )
        print("\n".join(f"  {name}" for name in newer))
    if not unused:
        print("nothing to prune: the last complete run used every recording it could have")
        return 0
    if not args.yes:
        print(f"would delete {_count(len(unused), 'recording')} the last complete run "
              f"({usage.finished_at}) did not use:")  # fmt: skip
        print("\n".join(f"  {name}" for name in unused))
        again = f" --dir {shlex.quote(args.dir)}" if args.dir != DEFAULT_DIR else ""
        print(f"To delete them, run: {PROG}{again} prune --yes")
        return 0
    emptied: set[Path] = set()
    for name in unused:
        (folder / name).unlink()
        print(f"deleted {name}")
        emptied.add((folder / name).parent)
    for parent in sorted(emptied, reverse=True):
        while parent != folder and folder in parent.parents and not any(parent.iterdir()):
            parent.rmdir()
            print(f"removed empty folder {_relative(parent, folder)}/")
            parent = parent.parent
    return 0


def prune_plan(folder: Path, usage: Usage) -> tuple[list[str], list[str]]:
    """The recordings (relative to ``folder``) the run did not use, and those it could not
    have used because they were written after it ended: those are kept."""
    unused: list[str] = []
    newer: list[str] = []
    for path in recording_paths(folder):
        name = _relative(path, folder)
        if name in usage.used:
            continue
        (newer if _written_after(path, usage.finished_at) else unused).append(name)
    return unused, newer


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- the parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``llm-replay`` parser, one subcommand per command."""
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument(
        "--dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"the recordings folder (default: {DEFAULT_DIR})",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look after the recordings of pytest-llm-replay.",
        epilog="Run 'llm-replay COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        default=DEFAULT_DIR,
        help=f"the recordings folder (default: {DEFAULT_DIR})",
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

    add(
        "ls",
        command_ls,
        "list the recordings in a table",
        "List the recordings: file, endpoint, model, streamed or not, number of events, size "
        "and when recorded. Unreadable files are listed with their problem (exit code 1).",
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
    add(
        "verify",
        command_verify,
        "check every recording against the format and openai types",
        "Load every recording, validate each typed object against the installed openai types "
        "and check that each file is where replay looks for it. Exit code 1 if any problem.",
    )
    imported = add(
        "import-llama-stack",
        command_import,
        "convert llama-stack recordings into this library's layout",
        "Convert llama-stack recorder files into this library's layout, keyed by the request "
        "the openai SDK sends. Exit code 1 if a file was skipped; the output says why.",
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
    prune = add(
        "prune",
        command_prune,
        "delete recordings the last complete test run did not use",
        f"Delete the recordings the last complete test run did not use, as the plugin noted "
        f"in DIR/{USAGE_FILE}. Without --yes, only list them. Refuses when the last run was "
        "not the whole suite.",
    )
    prune.add_argument(
        "--yes", action="store_true", help="delete them (without it, only list what would go)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code: 0 ok, 1 problems found, 2 a bad command line."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or argparse's usage error
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return int(args.run(args))
    except CommandError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (llm-replay ls | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
