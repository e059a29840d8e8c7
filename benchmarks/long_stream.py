"""Section 1: one long stream. A 1,000-event chat completion replayed through the openai SDK
from a recording file, against the same bytes served from memory (the floor) and against
vcrpy replaying them from a cassette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import cassettes
from benchmarks.clients import mock_client, replay_client, sdk_client, stream_chunks, stream_text
from benchmarks.exchanges import BASE_URL, Exchange, long_stream, put_recording
from benchmarks.report import Row, Where, not_applicable, ratio_row
from benchmarks.timing import Timed, Variant, interleaved
from replay.core.http_flavours import Flavour
from replay.store.directory import DirectoryStore

SECTION = "1 long stream"
EVENTS = 1000
FLOOR_LIMIT = 1.05


def run(flavour: Flavour, workdir: Path, repeats: int) -> list[Row]:
    """Time the three ways of replaying the stream, interleaved."""
    exchange = long_stream(EVENTS)
    store = DirectoryStore(workdir / "recordings")
    put_recording(store, exchange)
    variants: dict[str, Variant] = {
        "ours": lambda: _reading(replay_client(store, flavour, BASE_URL), exchange),
        "floor": lambda: _reading(
            mock_client(flavour, BASE_URL, lambda _content: exchange.sse), exchange
        ),
    }
    vcrpy_applies = cassettes.vcrpy_patches(flavour)
    cassette: tuple[Path, str] | None = None
    if vcrpy_applies:
        path = workdir / "long_stream.yaml"
        url = cassettes.record_cassette(path, [exchange], flavour)
        cassette = path, url
        variants["vcrpy"] = lambda: _vcrpy_reading(path, url, flavour, exchange)
    _check_same_stream(store, flavour, exchange, cassette)
    figures = interleaved(variants, repeats)
    where = Where(SECTION, flavour, f"replay one {EVENTS:,}-event stream")
    rows = [ratio_row(where, figures["ours"], "floor", figures["floor"], FLOOR_LIMIT)]
    if vcrpy_applies:
        row = ratio_row(where, figures["ours"], "vcrpy", figures["vcrpy"], limit=1.0)
        row.target, row.verdict = "(no target) ours / vcrpy", "info"
        rows.append(row)
    else:
        rows.append(not_applicable(where, "vcrpy does not patch " + flavour))
    return rows


def _reading(client: Any, exchange: Exchange) -> Timed:
    def timed() -> None:
        count = stream_chunks(client, exchange)
        assert count == exchange.chunks_expected, (count, exchange.chunks_expected)

    return timed


def _vcrpy_reading(cassette: Path, base_url: str, flavour: Flavour, exchange: Exchange) -> Timed:
    """Per sample, what pytest-recording does per test: load the cassette and patch on
    ``use_cassette``, make the request, unpatch."""
    import openai
    import vcr  # type: ignore[import-untyped]

    client = sdk_client(openai, flavour, base_url)

    def timed() -> None:
        with vcr.use_cassette(str(cassette), record_mode="none"):
            count = stream_chunks(client, exchange)
        assert count == exchange.chunks_expected, (count, exchange.chunks_expected)

    return timed


def _check_same_stream(
    store: DirectoryStore, flavour: Flavour, exchange: Exchange, cassette: tuple[Path, str] | None
) -> None:
    """All variants hand the SDK the same stream: the replayed bytes are the served bytes,
    and the SDK assembles the same text from each."""
    recording = exchange.recording()
    stored = store.get(None, recording.key, 0, recording.endpoint)
    assert stored is not None and b"".join(stored.chunks()) == exchange.sse, (
        "the recording does not replay the exchange's bytes"
    )
    floor = stream_text(mock_client(flavour, BASE_URL, lambda _content: exchange.sse), exchange)
    ours = stream_text(replay_client(store, flavour, BASE_URL), exchange)
    assert ours == floor, "replay and floor streams differ"
    if cassette is not None:
        import openai
        import vcr

        path, base_url = cassette
        with vcr.use_cassette(str(path), record_mode="none"):
            vcrpy = stream_text(sdk_client(openai, flavour, base_url), exchange)
        assert vcrpy == floor, "vcrpy and floor streams differ"
