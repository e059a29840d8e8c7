"""vcrpy cassettes of the benchmark exchanges, recorded by vcrpy itself.

vcrpy intercepts the real network call of httpx's (and, from vcrpy 9.4, httpx2's) transports,
so the cassettes are recorded against a real HTTP server: a small ``http.server`` thread on
127.0.0.1 that answers each request body with its exchange's SSE bytes. The cassette is then
vcrpy's own output, not YAML written by hand in what we believe is its format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.clients import sdk_client, stream_chunks
from benchmarks.exchanges import CONTENT_TYPE, Exchange
from replay.core.http_flavours import Flavour

MATCH_WITH_BODY = ["method", "scheme", "host", "port", "path", "query", "body"]


def vcrpy_patches(flavour: str) -> bool:
    """Whether the installed vcrpy intercepts ``flavour``'s transports (``httpx2`` support
    arrived in vcrpy 9.4)."""
    try:
        import vcr.patch  # type: ignore[import-untyped]
    except ImportError:
        return False
    return flavour in getattr(vcr.patch, "PATCHER_NAMES", ("httpx",))


@contextmanager
def sse_server(exchanges: Sequence[Exchange]) -> Iterator[str]:
    """An HTTP server on a free loopback port answering ``POST /v1/chat/completions`` with
    the SSE bytes of the exchange whose body was sent. Yields its base URL (``.../v1``)."""
    by_body = {_canonical(exchange.body): exchange.sse for exchange in exchanges}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            answer = by_body.get(_canonical_bytes(self.rfile.read(length)))
            if answer is None:
                self.send_error(404, "no such exchange")
                return
            self.send_response(200)
            self.send_header("content-type", CONTENT_TYPE)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def record_cassette(path: Path, exchanges: Sequence[Exchange], flavour: Flavour) -> str:
    """Record ``exchanges`` with vcrpy (through the openai SDK on ``flavour``) into the
    cassette ``path``; returns the base URL the cassette's requests went to."""
    import openai
    import vcr

    with (
        sse_server(exchanges) as base_url,
        vcr.use_cassette(str(path), record_mode="all", match_on=MATCH_WITH_BODY),
    ):
        client = sdk_client(openai, flavour, base_url)
        for exchange in exchanges:
            count = stream_chunks(client, exchange)
            assert count == exchange.chunks_expected, (count, exchange.chunks_expected)
        client.close()
    return base_url


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _canonical_bytes(content: bytes) -> str:
    return _canonical(json.loads(content))
