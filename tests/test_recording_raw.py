"""Version 3 of the recording format: the raw bytes and the ending that typed events cannot
say, kept beside them (docs/recording-format.md).

The recorder does not write version 3 yet (the issues that need it will), so these files are
made here from a real llama.cpp recording (``recordings/examples``): its events written with
json's default ``", "``/``": "`` spacing, which is what llama-cpp-python's server really sends
(``{"id": "..."}``), a binary body for the non-UTF-8 case, and the two endings. Every older
file still replays to its old bytes (tests/test_replayed_bytes.py).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from replay.core.http_flavours import flavour_module
from replay.core.recording import RAW_FORMAT_VERSION, Recording, dumps, loads
from replay.core.replayable import raw_problems
from replay.errors import RecordingFileError
from replay.player import Player
from replay.store.memory import MemoryStore
from replay.transports.httpx_transport import replay_transport

REPO = Path(__file__).resolve().parents[1]
JOKE = REPO / "recordings/examples/test_examples/test_joke/chat_completions-bd3faea6f2e70907.json"
FLAVOURS = ["httpx", "httpx2"]


def joke() -> Recording:
    recording = loads(JOKE.read_bytes(), str(JOKE))
    recording.test = None
    return recording


def server_spaced(recording: Recording) -> list[bytes]:
    """The stream as llama-cpp-python's server sends it: JSON with spaces after , and :."""
    chunks = []
    for element in recording.events:
        value = element["__data__"] if isinstance(element, dict) else element
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        chunks.append(f"data: {text}\r\n\r\n".encode())
    return chunks


def replayed(recording: Recording, flavour: str) -> tuple[list[bytes], BaseException | None]:
    """The chunks a client of ``flavour`` reads, and the error its stream ended with."""
    http = flavour_module(flavour)  # type: ignore[arg-type]
    transport = replay_transport(Player(MemoryStore([recording]), "replay"), flavour)  # type: ignore[arg-type]
    chunks: list[bytes] = []
    with http.Client(transport=transport) as client:
        request = client.build_request(recording.method, recording.url, json=recording.body)
        response = client.send(request, stream=True)
        try:
            chunks.extend(response.iter_raw())
        except Exception as error:
            return chunks, error
    return chunks, None


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_raw_bytes_replay_as_the_server_sent_them(flavour: str) -> None:
    recording = joke()
    raw = server_spaced(recording)
    recording.raw = raw
    again = loads(dumps(recording))
    assert again.raw == raw
    assert replayed(again, flavour) == (raw, None)
    assert replayed(joke(), flavour)[0] != raw  # without raw: the events written anew


def test_the_sdk_reads_the_same_chunks_from_raw_bytes_as_from_the_events() -> None:
    import openai

    def chunks(recording: Recording) -> list[dict[str, Any]]:
        http = flavour_module("httpx2" if openai.__version__[0] >= "3" else "httpx")
        transport = replay_transport(Player(MemoryStore([recording]), "replay"))
        client = openai.OpenAI(
            base_url="http://replay.test/v1",
            api_key="unused",
            http_client=http.Client(transport=transport),
        )
        stream = client.chat.completions.create(**recording.body)
        return [chunk.model_dump() for chunk in stream]

    spaced = joke()
    spaced.raw = server_spaced(spaced)
    assert chunks(loads(dumps(spaced))) == chunks(joke())


def test_a_file_with_raw_bytes_is_version_3_and_reads_back_to_its_own_bytes() -> None:
    recording = joke()
    recording.raw = server_spaced(recording)
    text = dumps(recording)
    document = json.loads(text)
    assert document["version"] == RAW_FORMAT_VERSION == 3
    assert len(document["response"]["raw"]) == len(document["response"]["body"])
    assert dumps(loads(text)) == text
    assert json.loads(dumps(joke()))["version"] == 2  # nothing raw: still version 2


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_body_that_is_not_utf8_replays_byte_for_byte(flavour: str) -> None:
    audio = bytes(range(256)) * 4  # what a speech endpoint answers: not text
    recording = Recording(
        method="POST",
        url="http://127.0.0.1:8080/v1/audio/speech",
        endpoint="/v1/audio/speech",
        body={"model": "tts", "input": "hello"},
        status=200,
        content_type="audio/mpeg",
        is_streaming=False,
        events=[""],
        raw=[audio],
    )
    text = dumps(recording)
    assert json.loads(text)["response"]["raw"].keys() == {"base64"}
    assert replayed(loads(text), flavour) == ([audio], None)
    # nothing for verify to hold the bytes against: no problem (a text body is compared)
    assert raw_problems([audio], [""], False, "audio/mpeg") == []
    assert raw_problems([b"other"], ["said"], False, "text/plain") != []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_stream_the_server_cut_replays_cut_after_its_events(flavour: str) -> None:
    recording = joke()
    recording.events = recording.events[:3]
    recording.event_ms = None
    recording.ended = "cut"
    text = dumps(recording)
    assert json.loads(text)["response"]["ended"] == "cut"
    chunks, error = replayed(loads(text), flavour)
    assert len(chunks) == 3
    assert type(error).__name__ == "RemoteProtocolError"
    assert "incomplete chunked read" in str(error)


def test_an_answer_the_client_closed_keeps_what_it_read_and_replays_it_whole() -> None:
    recording = joke()
    recording.events = recording.events[:2]
    recording.event_ms = None
    recording.ended = "client_closed"
    again = loads(dumps(recording))
    assert again.ended == "client_closed"
    assert replayed(again, "httpx") == (list(joke().chunks())[:2], None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.__setitem__("raw", r["raw"][:-1]), "response.raw is not a list of"),
        (lambda r: r["raw"].__setitem__(0, {"base64": "***"}), r"response.raw\[0\] is not a"),
        (lambda r: r["raw"].__setitem__(1, 7), r"response.raw\[1\] is not a"),
        (lambda r: r.__setitem__("ended", "maybe"), "response.ended 'maybe' is not one of"),
    ],
)
def test_a_bad_raw_field_is_named_with_the_file(change: Any, message: str) -> None:
    recording = joke()
    recording.raw = server_spaced(recording)
    document = json.loads(dumps(recording))
    change(document["response"])
    with pytest.raises(RecordingFileError, match=message) as caught:
        loads(json.dumps(document), "recordings/x.json")
    assert "recordings/x.json" in str(caught.value)


def test_verify_finds_raw_bytes_that_do_not_carry_their_event(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    target = folder / JOKE.relative_to(REPO / "recordings")
    target.parent.mkdir(parents=True)
    recording = loads(JOKE.read_bytes(), str(JOKE))
    raw = server_spaced(recording)
    recording.raw = raw
    target.write_text(dumps(recording), encoding="utf-8")

    def verify() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "replay.cli", "--dir", str(folder), "verify"]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    assert verify().returncode == 0, verify().stdout
    changed = copy.deepcopy(raw)
    changed[2] = changed[2].replace(b'"content": "', b'"content": "not what was said ')
    recording.raw = changed
    target.write_text(dumps(recording), encoding="utf-8")
    done = verify()
    assert done.returncode == 1
    assert "response.raw[2] does not carry response.body[2]" in done.stdout
    assert "replay sends the raw bytes" in done.stdout
