"""What the changes proposed in benchmarks/README.md would gain, measured before anyone edits
``replay/``: each is patched in for the duration of a sample, interleaved with the shipped
code. ``python benchmarks/proposals.py [--quick]``.

This file reaches into ``replay``'s private functions on purpose (it stands in for edits to
them); run.py does not. A change to those internals may make a proposal here report "not
measurable", and a proposal that has since been made shows no gain.

A. orjson, where installed, for reading recordings and rendering events (``recording.loads``
   and ``recording._wire_text``): byte-identical output for what servers send. Measured only
   when ``import orjson`` works (``pip install --target DIR orjson`` and ``PYTHONPATH=DIR``
   leave the environment alone).
B. ``DirectoryStore.get`` without hashing the stored request again on every replay (the file
   was found by the request's hash and names it in ``key``; the full check stays in
   ``llm-replay verify``), and the path built as a string rather than with ``pathlib``.
C. ``Recorder.close``: the recording serialized once (not once for the secret scan and again
   in ``DirectoryStore.put``), and the secret scan run line by line only when a whole-text
   search found something.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import replay.recording
import replay.store
from benchmarks.clients import mock_client, replay_client, stream_chunks
from benchmarks.exchanges import (
    BASE_URL,
    Exchange,
    long_stream,
    put_recording,
    small_stream,
    write_recordings,
)
from benchmarks.many_small import answers_by_request_bytes
from benchmarks.timing import CPU, TOTAL, Summary, Timed, Variant, interleaved
from replay.errors import RecordingFileError
from replay.recording import Recording, dumps, from_json
from replay.secrets import compile_patterns, find_secrets
from replay.store import DirectoryStore, endpoint_folder, file_name, write_atomic
from replay.transport import Flavour, default_flavour

try:
    import orjson  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    orjson = None


def loads_orjson(text: str | bytes, source: str = "<string>", expected_key: Any = None) -> Any:
    """Proposal A: ``recording.loads`` parsing with orjson."""
    try:
        document = orjson.loads(text)
    except ValueError as error:
        raise RecordingFileError(source, f"not valid JSON ({error})") from None
    return from_json(document, source, expected_key)


def wire_text_orjson(value: Any) -> str:
    """Proposal A: ``recording._wire_text`` with orjson (compact, UTF-8 kept)."""
    return value if isinstance(value, str) else str(orjson.dumps(value), "utf-8")


def get_without_rehash(self: DirectoryStore, key: str, index: int, endpoint: str) -> Any:
    """Proposal B: the stored ``key`` must be the name's; the stored request is not hashed
    again (simulated here by answering ``request_key`` with that key while ``from_json``
    runs), and the path is a string."""
    path = os.path.join(self.root, endpoint_folder(endpoint), file_name(key, index))
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(data)
    except ValueError as error:
        raise RecordingFileError(path, f"not valid JSON ({error})") from None
    stored = document.get("key") if isinstance(document, dict) else None
    if stored is None:  # a llama-stack file carries no key: check it the shipped way
        return from_json(document, path, key)
    if stored != key:
        raise RecordingFileError(path, f"it answers request hash {stored}, but its name says")
    with patched(replay.recording, "request_key", lambda *args, **kwargs: key):
        return from_json(document, path, key)


def find_secrets_prefiltered(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    """Proposal C, half 1: one whole-text search per pattern (MULTILINE, so that ``^`` and
    ``$`` in a user's pattern still match at line ends), the line-by-line scan only on a
    hit: the same findings, and for the usual recording six searches instead of six a line."""
    if not any(re.compile(p.pattern, p.flags | re.MULTILINE).search(text) for _, p in patterns):
        return []
    return find_secrets(text, patterns)


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    """``target.name`` is ``value`` inside the block."""
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def replaying(client: Any, exchanges: list[Exchange], *patches: tuple[Any, str, Any]) -> Timed:
    """The exchanges in a row, with ``(target, name, value)`` patches in place."""

    def timed() -> None:
        with ExitStack() as stack:
            for target, name, value in patches:
                stack.enter_context(patched(target, name, value))
            for exchange in exchanges:
                stream_chunks(client, exchange)

    return timed


def show(title: str, figures: dict[str, dict[str, Summary]], per: int = 1) -> None:
    """Medians and minimums (the least disturbed sample: on a busy machine the better
    estimate of a small difference) against the floor, or the shipped code."""
    print(f"\n{title}")
    base = figures.get("floor", figures["shipped"])[TOTAL]
    for name, figure in figures.items():
        wall, cpu = figure[TOTAL], figure[CPU]
        print(
            f"  {name:30} wall {wall.median / per * 1e3:8.3f} ms (min {wall.low / per * 1e3:8.3f})"
            f"  cpu {cpu.median / per * 1e3:8.3f} ms"
            f"  x {'floor' if 'floor' in figures else 'shipped'}: {wall.median / base.median:.3f}"
            f" (min {wall.low / base.low:.3f})"
        )


def long_stream_proposals(flavour: Flavour, workdir: Path, repeats: int) -> None:
    exchange = long_stream(1000)
    store = DirectoryStore(workdir / "long")
    put_recording(store, exchange)
    recording = exchange.recording()
    variants: dict[str, Variant] = {
        "floor": lambda: replaying(
            mock_client(flavour, BASE_URL, lambda _: exchange.sse), [exchange]
        ),
        "shipped": lambda: replaying(replay_client(store, flavour, BASE_URL), [exchange]),
    }
    if orjson is None:
        print("\n(orjson is not importable: proposal A not measured)")
    else:
        with patched(replay.recording, "_wire_text", wire_text_orjson):
            assert b"".join(recording.chunks()) == exchange.sse, "orjson renders differently"
        variants["A orjson"] = lambda: replaying(
            replay_client(store, flavour, BASE_URL),
            [exchange],
            (replay.recording, "_wire_text", wire_text_orjson),
            (replay.store, "loads", loads_orjson),
        )
    show("1,000-event stream, replay (proposal A)", interleaved(variants, repeats))


def many_small_proposals(flavour: Flavour, workdir: Path, repeats: int) -> None:
    exchanges = [small_stream(number) for number in range(200)]
    store = write_recordings(workdir / "small", exchanges)
    answers = answers_by_request_bytes(flavour, exchanges)
    stored = exchanges[7].recording()
    where = (stored.key, 0, stored.endpoint)
    assert get_without_rehash(store, *where) == store.get(*where), "B reads another recording"
    get = (replay.store.DirectoryStore, "get", get_without_rehash)
    variants: dict[str, Variant] = {
        "floor": lambda: replaying(mock_client(flavour, BASE_URL, answers.__getitem__), exchanges),
        "shipped": lambda: replaying(replay_client(store, flavour, BASE_URL), exchanges),
        "B no re-hash, string path": lambda: replaying(
            replay_client(store, flavour, BASE_URL), exchanges, get
        ),
    }
    if orjson is not None:
        variants["A+B"] = lambda: replaying(
            replay_client(store, flavour, BASE_URL),
            exchanges,
            get,
            (replay.recording, "_wire_text", wire_text_orjson),
            (replay.store, "loads", loads_orjson),
        )
    show("200 small exchanges, per exchange (proposals A, B)", interleaved(variants, repeats), 200)


def recorder_write_proposals(workdir: Path, repeats: int) -> None:
    patterns = compile_patterns()
    for events in (67, 1000):
        recording: Recording = long_stream(events).recording()
        store = DirectoryStore(workdir / f"write{events}")

        def shipped(recording: Recording = recording, store: DirectoryStore = store) -> Timed:
            def timed() -> None:
                assert not find_secrets(dumps(recording), patterns)
                store.put(recording, 0)

            return timed

        def proposed(recording: Recording = recording, store: DirectoryStore = store) -> Timed:
            def timed() -> None:
                text = dumps(recording)
                assert not find_secrets_prefiltered(text, patterns)
                write_atomic(store.path(recording.key, 1, recording.endpoint), text)

            return timed

        figures = interleaved({"shipped": shipped, "C dumps once, prefilter": proposed}, repeats)
        show(f"secret scan and write of a {events}-event recording (proposal C)", figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="9 repeats instead of 21")
    options = parser.parse_args()
    repeats = 9 if options.quick else 21
    flavour = default_flavour()
    print(f"{sys.executable}: flavour {flavour}, {repeats} repeats, load {os.getloadavg()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llm-replay-proposals-") as temporary:
        workdir = Path(temporary)
        try:
            long_stream_proposals(flavour, workdir, repeats)
            many_small_proposals(flavour, workdir, repeats)
            recorder_write_proposals(workdir, repeats)
        except (AttributeError, ImportError, TypeError) as error:
            print(f"not measurable on this version of replay: {error!r}")
            return 1
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
