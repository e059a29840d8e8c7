"""A small HTTP server on 127.0.0.1 that misbehaves on purpose, for the hardening tests.

One mode per misbehaviour, chosen by the first segment of the path: a client whose base URL
is ``server.base_url("truncated")`` (``http://127.0.0.1:PORT/truncated/v1``) meets that mode.
Requests are answered with bytes written by hand, so that framing (content-length, chunked or
close-delimited), encoding and headers are exactly what each mode says. Connections are kept
alive between requests unless the mode's body is close-delimited. Only loopback; the server
stops when the test's ``with`` block ends.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

# A key the secret scan must catch, in pieces where a mode splits it.
STREAMED_KEY = "sk-proj-Zx81Qw72Er63Ty54Ui45Op36"


def chunk(content: str, finish: str | None = None) -> dict[str, Any]:
    """One chat completion chunk as servers send it."""
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "hostile",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }


def completion(content: str) -> dict[str, Any]:
    """One whole chat completion."""
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "hostile",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def sse(*values: Any, event: str | None = None) -> bytes:
    """Events as wire bytes: JSON values, or text as it is (``[DONE]``)."""
    out = b""
    for value in values:
        data = value if isinstance(value, str) else json.dumps(value)
        head = f"event: {event}\n" if event else ""
        out += f"{head}data: {data}\n\n".encode()
    return out


THREE = [chunk("Once"), chunk(" upon"), chunk(" a time")]
ANTHROPIC = [
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "content": []}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": "Hi"}}),
    ("message_stop", {"type": "message_stop"}),
]  # fmt: skip
RESPONSES = [
    {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
    {"type": "response.output_text.delta", "delta": "Hi"},
    {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}},
]


class Reply:
    """What a mode sends: status line, headers and body parts, how the body is framed."""

    def __init__(
        self,
        body: bytes | list[bytes],
        content_type: str = "application/json",
        framing: str = "length",  # "length", "chunked" or "close"
        headers: dict[str, str] | None = None,
    ) -> None:
        self.parts = body if isinstance(body, list) else [body]
        self.content_type = content_type
        self.framing = framing
        self.headers = headers or {}

    def wire(self) -> list[bytes]:
        head = ["HTTP/1.1 200 OK", f"content-type: {self.content_type}"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.framing == "length":
            head.append(f"content-length: {sum(len(part) for part in self.parts)}")
            body = self.parts
        elif self.framing == "chunked":
            head.append("transfer-encoding: chunked")
            body = [b"%x\r\n%s\r\n" % (len(part), part) for part in self.parts if part]
            body.append(b"0\r\n\r\n")
        else:
            head.append("connection: close")
            body = self.parts
        return [("\r\n".join(head) + "\r\n\r\n").encode(), *body]


def _streams(request: dict[str, Any]) -> bool:
    return bool(request.get("stream"))


def _chat(request: dict[str, Any]) -> Reply:
    if _streams(request):
        return Reply([sse(c) for c in THREE] + [sse("[DONE]")], "text/event-stream", "chunked")
    return Reply(json.dumps(completion("Once upon a time")).encode())


MODES: dict[str, Callable[[dict[str, Any]], Reply]] = {
    # A well-behaved server: JSON with a length, streams chunked and ended by [DONE].
    "chat": _chat,
    # A close-delimited stream cut after three events: no [DONE].
    "truncated": lambda request: Reply([sse(c) for c in THREE], "text/event-stream", "close"),
    # The same framing, but the stream says it ended: whole.
    "close-done": lambda request: Reply(
        [sse(c) for c in THREE] + [sse("[DONE]")], "text/event-stream", "close"
    ),
    "anthropic-close": lambda request: Reply(
        [sse(data, event=name) for name, data in ANTHROPIC], "text/event-stream", "close"
    ),
    "anthropic-cut": lambda request: Reply(
        [sse(data, event=name) for name, data in ANTHROPIC[:2]], "text/event-stream", "close"
    ),
    "responses-close": lambda request: Reply(
        [sse(data, event=data["type"]) for data in RESPONSES], "text/event-stream", "close"
    ),
    # Compressed although the recorder asked for accept-encoding: identity.
    "gzip-json": lambda request: Reply(
        gzip.compress(json.dumps(completion("Once upon a time")).encode()),
        headers={"content-encoding": "gzip"},
    ),
    "gzip-stream": lambda request: Reply(
        [gzip.compress(b"".join(sse(c) for c in THREE) + sse("[DONE]"))],
        "text/event-stream",
        "chunked",
        headers={"content-encoding": "gzip"},
    ),
    "brotli-json": lambda request: Reply(
        b"\x1b\x03\x00\xf8\xa5\x00", headers={"content-encoding": "br"}
    ),
    # A key the model "says" across two deltas.
    "split-key": lambda request: Reply(
        [sse(chunk("my key is " + STREAMED_KEY[:5]), chunk(STREAMED_KEY[5:]), "[DONE]")],
        "text/event-stream",
        "chunked",
    ),
    # A key right after a "-", in a response header the recorder keeps.
    "request-id-key": lambda request: Reply(
        json.dumps(completion("hi")).encode(),
        headers={"x-request-id": "req-" + STREAMED_KEY},
    ),
}


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            line = self.rfile.readline()
            if not line.strip():
                return
            headers: dict[str, str] = {}
            while (header := self.rfile.readline()).strip():
                name, _, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self.rfile.read(int(headers.get("content-length", "0") or 0))
            path = line.split()[1].decode()
            mode = path.strip("/").split("/", 1)[0]
            try:
                request = json.loads(body) if body else {}
            except ValueError:
                request = {}
            self.server.seen.append((path, headers, body))
            reply = MODES[mode](request if isinstance(request, dict) else {})
            for part in reply.wire():
                self.wfile.write(part)
                self.wfile.flush()
            if reply.framing == "close":
                self.connection.shutdown(socket.SHUT_WR)
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    seen: list[tuple[str, dict[str, str], bytes]]


class HostileServer:
    """The server, on a free port of 127.0.0.1, for the length of a ``with`` block."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.seen = []
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def seen(self) -> list[tuple[str, dict[str, str], bytes]]:
        """Every request received: path, lower-case headers, body."""
        return self._server.seen

    def base_url(self, mode: str, userinfo: str = "") -> str:
        """The OpenAI base URL of a mode."""
        assert mode in MODES, mode
        return f"http://{userinfo}127.0.0.1:{self.port}/{mode}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
