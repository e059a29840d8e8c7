"""Section 2: many small exchanges. 200 different three-event streams in a row in one test,
the request body part of the match: our recordings folder, a ``MockTransport`` that looks the
body up in a dict (the floor), and vcrpy matching on the body as well."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import cassettes
from benchmarks.clients import mock_client, replay_client, sdk_client, stream_chunks
from benchmarks.exchanges import BASE_URL, Exchange, small_stream, write_recordings
from benchmarks.report import Row, Where, not_applicable, ratio_row, speedup_row
from benchmarks.timing import Timed, Variant, interleaved, scaled
from replay.core.http_flavours import Flavour
from replay.store.directory import DirectoryStore

SECTION = "2 many small"
COUNT = 200
FLOOR_LIMIT = 1.10
VCRPY_SPEEDUP = 5.0


def run(flavour: Flavour, workdir: Path, repeats: int) -> list[Row]:
    """Time 200 exchanges in a row each way, interleaved; report per exchange."""
    exchanges = [small_stream(number) for number in range(COUNT)]
    store = write_recordings(workdir / "recordings", exchanges)
    answers = answers_by_request_bytes(flavour, exchanges)
    variants: dict[str, Variant] = {
        "ours": lambda: _reading(replay_client(store, flavour, BASE_URL), exchanges),
        "floor": lambda: _reading(mock_client(flavour, BASE_URL, answers.__getitem__), exchanges),
    }
    vcrpy_applies = cassettes.vcrpy_patches(flavour)
    if vcrpy_applies:
        cassette = workdir / "many_small.yaml"
        url = cassettes.record_cassette(cassette, exchanges, flavour)
        variants["vcrpy"] = lambda: _vcrpy_reading(cassette, url, flavour, exchanges)
    _check_every_exchange(store, flavour, exchanges)
    figures = interleaved(variants, repeats)
    per_exchange = {name: scaled(figures[name], 1 / COUNT) for name in figures}
    where = Where(SECTION, flavour, f"per exchange, {COUNT} different 3-event streams")
    rows = [ratio_row(where, per_exchange["ours"], "floor", per_exchange["floor"], FLOOR_LIMIT)]
    if vcrpy_applies:
        rows.append(
            speedup_row(
                where, per_exchange["ours"], "vcrpy+body", per_exchange["vcrpy"], VCRPY_SPEEDUP
            )
        )
    else:
        rows.append(not_applicable(where, "vcrpy does not patch " + flavour))
    return rows


def answers_by_request_bytes(flavour: Flavour, exchanges: list[Exchange]) -> dict[bytes, bytes]:
    """The floor's dict: the exact request bytes the SDK sends for each exchange (caught
    once, untimed) to that exchange's SSE bytes."""
    answers: dict[bytes, bytes] = {}
    for exchange in exchanges:

        def catch(content: bytes, exchange: Exchange = exchange) -> bytes:
            answers[content] = exchange.sse
            return exchange.sse

        stream_chunks(mock_client(flavour, BASE_URL, catch), exchange)
    assert len(answers) == len(exchanges), "two exchanges sent the same request bytes"
    return answers


def _reading(client: Any, exchanges: list[Exchange]) -> Timed:
    def timed() -> None:
        for exchange in exchanges:
            count = stream_chunks(client, exchange)
            assert count == exchange.chunks_expected, (count, exchange.chunks_expected)

    return timed


def _vcrpy_reading(
    cassette: Path, base_url: str, flavour: Flavour, exchanges: list[Exchange]
) -> Timed:
    """One cassette for the test, as pytest-recording has it: load and patch, then the 200
    requests, each matched on method, URL parts and body."""
    import openai
    import vcr  # type: ignore[import-untyped]

    client = sdk_client(openai, flavour, base_url)

    def timed() -> None:
        with vcr.use_cassette(
            str(cassette), record_mode="none", match_on=cassettes.MATCH_WITH_BODY
        ):
            for exchange in exchanges:
                count = stream_chunks(client, exchange)
                assert count == exchange.chunks_expected, (count, exchange.chunks_expected)

    return timed


def _check_every_exchange(
    store: DirectoryStore, flavour: Flavour, exchanges: list[Exchange]
) -> None:
    """Each request replays its own answer (the body is part of the match)."""
    client = replay_client(store, flavour, BASE_URL)
    for exchange in exchanges[:: COUNT // 10]:
        chunks = list(client.chat.completions.create(**exchange.body))
        expected = str(int(exchange.body["messages"][0]["content"].split()[1].rstrip(":")) + 1)
        assert chunks[0].choices[0].delta.content == expected, "replayed the wrong exchange"
