"""Every recording this repository holds replays to the same bytes, release after release.

``tests/data/replayed-bytes.json`` holds, for each file of ``recordings/`` and ``tests/data/``
and for each seed document, the request hash the recording answers and a digest of what a
client receives when it is replayed: the status, the headers and the body, chunk by chunk.
The digests were written by running this module as a script (``python -m
tests.test_replayed_bytes``) on the code before the package was laid out in subpackages; a
refactor that changes one byte a client reads, or one request hash, fails here. The module
uses only the public names of ``replay`` so that it ran unchanged before and after.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay import MemoryStore, Player, Recording, loads, replay_transport
from tests.seedfiles import SEEDS, curl_seed, llama_stack_text, ollama_seed

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "replayed-bytes.json"


def recordings() -> Iterator[tuple[str, Recording]]:
    """Every recording of the repository, named by where it comes from."""
    for folder in ("recordings", "tests/data"):
        for path in sorted((ROOT / folder).rglob("*.json")):
            if path == GOLDEN:
                continue
            name = str(path.relative_to(ROOT))
            yield name, loads(path.read_bytes(), name)
    yield "seeds/002_1b278b56b763379a.txt", loads((SEEDS / "002_1b278b56b763379a.txt").read_bytes())
    yield "seeds/003_11d0a2173aefbf3a.txt", loads(llama_stack_text("003_11d0a2173aefbf3a.txt"))
    for name in ("000_a30d2370a65b8133.txt", "001_1cfb8fc5d5cf4d6d.txt"):
        yield f"seeds/{name}", curl_seed(name).record()
    for number, exchange in enumerate(ollama_seed()):
        yield f"seeds/004_d95dfebd246ce068.txt#{number}", exchange.record()


def replayed(recording: Recording, flavour: str) -> dict[str, str]:
    """The request hash, and the digest of the response a client of ``flavour`` reads."""
    http = __import__(flavour)
    recording.test = None  # served from the shared scope: the player below serves no test
    transport = replay_transport(Player(MemoryStore([recording]), "replay"), flavour)  # type: ignore[arg-type]
    body = recording.body
    content = b"" if body is None else json.dumps(body).encode()
    with http.Client(transport=transport) as client:
        request = client.build_request(
            recording.method, recording.url, headers=recording.headers, content=content
        )
        response = client.send(request, stream=True)
        chunks = list(response.iter_raw())
    digest = hashlib.sha256()
    digest.update(f"{response.status_code}\n".encode())
    for name, value in response.headers.multi_items():
        digest.update(f"{name}: {value}\n".encode())
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big") + chunk)
    return {"key": recording.key, "response": digest.hexdigest()}


def available_flavours() -> list[str]:
    found = []
    for flavour in ("httpx", "httpx2"):
        try:
            __import__(flavour)
        except ImportError:
            continue
        found.append(flavour)
    return found


def golden() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("flavour", available_flavours())
def test_every_recording_replays_to_the_bytes_it_replayed_to_before(flavour: str) -> None:
    expected = golden()
    found = dict(recordings())
    assert sorted(found) == sorted(expected), "a recording was added or removed: see the docstring"
    assert len(found) >= 30
    for name, recording in found.items():
        assert replayed(recording, flavour) == expected[name], name


def test_seed_documents_are_the_ones_the_digests_were_made_from() -> None:
    names = sorted(path.name for path in SEEDS.glob("0*.txt"))
    assert names == sorted(
        {name.split("/")[1].split("#")[0] for name in golden() if "seeds/" in name}
    )


if __name__ == "__main__":
    written = {name: replayed(recording, "httpx") for name, recording in recordings()}
    for name, recording in recordings():
        assert replayed(recording, "httpx2") == written[name], name
    GOLDEN.write_text(json.dumps(written, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(written)} digests to {GOLDEN}", file=sys.stderr)
