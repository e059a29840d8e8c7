"""What the changes still proposed in benchmarks/README.md would gain, measured before anyone
edits ``replay/``: each is patched in for the duration of a sample, interleaved with the
shipped code. ``python benchmarks/proposals.py [--quick]``.

This file reaches into ``replay``'s private functions on purpose (it stands in for edits to
them); run.py does not. A change to those internals may make a proposal here report "not
measurable". Proposals made since (orjson, one serialisation per write, a whole-text secret
scan) are gone from this file; the README says what they gained.

B. ``DirectoryStore.get`` without hashing the stored request again on every replay: the file
   was found by the request's hash, and its ``key`` must equal that hash; the check that the
   request inside matches its key would move to ``llm-playback verify`` and to failed tests.
   Not made: it would let a request edited by hand replay silently for the old request.
E. A stream replayed in chunks of 64 events rather than one chunk per event: what the
   guarantee "replay delivers a stream event by event" costs. Not made: it is a guarantee.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import replay.core.recording
import replay.store.directory
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
from replay.core import jsonfast
from replay.core.http_flavours import Flavour, default_flavour
from replay.core.recording import Recording, from_json
from replay.errors import RecordingFileError
from replay.store.directory import DirectoryStore
from replay.store.layout import relative_path

BATCH = 64


def get_without_rehash(
    self: DirectoryStore, test: str | None, key: str, index: int, endpoint: str
) -> Any:
    """Proposal B: the stored ``key`` must be the name's; the stored request is not hashed
    again (simulated by answering ``request_key`` with that key while ``from_json`` runs)."""
    path = os.path.join(self.root, relative_path(test, endpoint, key, index))
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    try:
        document, writer = jsonfast.parse(data)
    except ValueError as error:
        raise RecordingFileError(path, f"not valid JSON ({error})") from None
    stored = document.get("key") if isinstance(document, dict) else None
    if stored is None:  # a llama-stack file carries no key: check it the shipped way
        return from_json(document, path, key, writer)
    if stored != key:
        raise RecordingFileError(path, f"it answers request hash {stored}, but its name says")
    with patched(replay.core.recording, "request_key", lambda *args, **kwargs: key):
        return from_json(document, path, key, writer)


def chunks_in_batches(self: Recording) -> Iterator[bytes]:
    """Proposal E: the shipped rendering, ``BATCH`` events to a chunk."""
    batch: list[bytes] = []
    for chunk in SHIPPED_CHUNKS(self):
        batch.append(chunk)
        if len(batch) == BATCH:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


SHIPPED_CHUNKS = Recording.chunks


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
    estimate of a small difference) against the floor."""
    print(f"\n{title}")
    base = figures["floor"][TOTAL]
    for name, figure in figures.items():
        wall, cpu = figure[TOTAL], figure[CPU]
        print(
            f"  {name:30} wall {wall.median / per * 1e3:8.3f} ms (min {wall.low / per * 1e3:8.3f})"
            f"  cpu {cpu.median / per * 1e3:8.3f} ms"
            f"  x floor: {wall.median / base.median:.3f} (min {wall.low / base.low:.3f})"
        )


def long_stream_proposals(flavour: Flavour, workdir: Path, repeats: int) -> None:
    exchange = long_stream(1000)
    store = DirectoryStore(workdir / "long")
    put_recording(store, exchange)
    recording = exchange.recording()
    with patched(Recording, "chunks", chunks_in_batches):
        assert b"".join(recording.chunks()) == exchange.sse, "E renders other bytes"
    variants: dict[str, Variant] = {
        "floor": lambda: replaying(
            mock_client(flavour, BASE_URL, lambda _: exchange.sse), [exchange]
        ),
        "shipped": lambda: replaying(replay_client(store, flavour, BASE_URL), [exchange]),
        f"E {BATCH} events a chunk": lambda: replaying(
            replay_client(store, flavour, BASE_URL),
            [exchange],
            (Recording, "chunks", chunks_in_batches),
        ),
    }
    show("1,000-event stream, replay (proposal E)", interleaved(variants, repeats))


def many_small_proposals(flavour: Flavour, workdir: Path, repeats: int) -> None:
    exchanges = [small_stream(number) for number in range(200)]
    store = write_recordings(workdir / "small", exchanges)
    answers = answers_by_request_bytes(flavour, exchanges)
    stored = exchanges[7].recording()
    where = (None, stored.key, 0, stored.endpoint)
    assert get_without_rehash(store, *where) == store.get(*where), "B reads another recording"
    variants: dict[str, Variant] = {
        "floor": lambda: replaying(mock_client(flavour, BASE_URL, answers.__getitem__), exchanges),
        "shipped": lambda: replaying(replay_client(store, flavour, BASE_URL), exchanges),
        "B no re-hash": lambda: replaying(
            replay_client(store, flavour, BASE_URL),
            exchanges,
            (replay.store.directory.DirectoryStore, "get", get_without_rehash),
        ),
    }
    show("200 small exchanges, per exchange (proposal B)", interleaved(variants, repeats), 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="9 repeats instead of 21")
    options = parser.parse_args()
    repeats = 9 if options.quick else 21
    flavour = default_flavour()
    print(f"{sys.executable}: flavour {flavour}, {repeats} repeats, load {os.getloadavg()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llm-playback-proposals-") as temporary:
        workdir = Path(temporary)
        try:
            long_stream_proposals(flavour, workdir, repeats)
            many_small_proposals(flavour, workdir, repeats)
        except (AttributeError, ImportError, TypeError) as error:
            print(f"not measurable on this version of replay: {error!r}")
            return 1
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
