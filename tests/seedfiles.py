"""The seed documents (tests/seeds, byte-identical copies of ../shared/seeds) as recordings.

000 and 001 are curl calls with their SSE bodies, 004 a page of Ollama bodies: they are made
into recordings by feeding their bytes through the same ``Recorder`` that records live
traffic. The page copies lost the blank line after each ``data:`` line; ``wire_body`` puts it
back, which is the only change made to their bytes. 002 and 003 are llama-stack recordings.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.core.recorder import Recorder
from replay.core.recording import Recording
from replay.core.request import request_info

SEEDS = Path(__file__).parent / "seeds"
SERVER = "http://localhost:8000"


@dataclass
class SeedExchange:
    """One request of a seed and the body the server sent."""

    endpoint: str
    body: dict[str, Any]
    data_lines: list[str]  # the SSE ``data:`` payloads as sent, or one JSON text if not streamed
    streaming: bool

    def wire_body(self) -> bytes:
        """The body as it crossed the wire."""
        if not self.streaming:
            return self.data_lines[0].encode("utf-8")
        return "".join(f"data: {line}\n\n" for line in self.data_lines).encode("utf-8")

    def record(self, chunk_size: int = 7) -> Recording:
        """The recording the recorder makes of this exchange, fed in small cuts."""
        info = request_info(
            "POST",
            SERVER + self.endpoint,
            [("content-type", "application/json")],
            json.dumps(self.body).encode(),
        )
        recorder = Recorder(
            request=info,
            status=200,
            content_type="text/event-stream" if self.streaming else "application/json",
            started=time.perf_counter(),
            server=SERVER,
        )
        wire = self.wire_body()
        for start in range(0, len(wire), chunk_size):
            recorder.feed(wire[start : start + chunk_size])
        recording = recorder.finish()
        assert recording is not None
        return recording


def curl_seed(name: str) -> SeedExchange:
    """Seeds 000 and 001: a curl call, then ``-- response.json --`` and the SSE body."""
    text = (SEEDS / name).read_text(encoding="utf-8")
    request, _, response = text.partition("-- response.json --\n")
    url = re.search(r"-X POST (\S+)", request)
    assert url is not None
    body = json.loads(request[request.index("-d '") + 4 : request.rindex("'")])
    lines = [line.removeprefix("data: ") for line in response.splitlines() if line]
    return SeedExchange(url.group(1).removeprefix(SERVER), body, lines, streaming=True)


def ollama_seed() -> list[SeedExchange]:
    """Seed 004: two streamed and two plain exchanges, in the page's order."""
    text = (SEEDS / "004_d95dfebd246ce068.txt").read_text(encoding="utf-8")
    blocks = re.findall(r"```(json|text) (.*?) ```", text)
    requests = [json.loads(body) for kind, body in blocks if kind == "json"]
    streamed = [re.split(r"(?:^| )data: ", body)[1:] for kind, body in blocks if kind == "text"]
    endpoints = ["/v1/completions", "/v1/chat/completions"]
    exchanges = [
        SeedExchange(endpoint, request, lines, streaming=True)
        for endpoint, request, lines in zip(endpoints, requests[:2], streamed, strict=True)
    ]
    plain = [body for kind, body in blocks if kind == "json"][4:]
    exchanges += [
        SeedExchange(endpoint, request, [response], streaming=False)
        for endpoint, request, response in zip(endpoints, requests[2:4], plain, strict=True)
    ]
    return exchanges


def llama_stack_text(name: str) -> str:
    """A llama-stack seed as JSON text; 003 is a page copy whose JSON lines are interleaved
    with lines holding only ``|`` after a page header."""
    text = (SEEDS / name).read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("{")
    return "\n".join(line for line in lines[start:] if line != "|")
