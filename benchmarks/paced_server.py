"""A local server that streams one chat completion at a fixed pace: section 4's yardstick
without the model's noise. ``python benchmarks/paced_server.py EVENTS INTERVAL_MS`` prints
its port, then answers every ``POST`` with a stream of ``EVENTS`` events shaped like
llama.cpp's, one every ``INTERVAL_MS`` milliseconds (the first after one interval, as a
model's first token), and closes the connection (HTTP/1.0)."""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.exchanges import CONTENT_TYPE, long_stream


def serve(events: int, interval: float) -> None:
    """Serve until killed."""
    body = long_stream(events).sse
    chunks = [event + b"\n\n" for event in body.split(b"\n\n")[:-1]]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", CONTENT_TYPE)
            self.end_headers()
            self.wfile.flush()
            for chunk in chunks:
                time.sleep(interval)
                self.wfile.write(chunk)
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]) / 1000)
