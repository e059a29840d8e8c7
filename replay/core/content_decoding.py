"""Undoing a response's ``content-encoding`` for the recorder. Pure.

The recorder asks the server for ``accept-encoding: identity``; a server may compress all the
same. The application's client decodes what it is given; the recorder must keep the decoded
body too (a recording holds text, and replays without ``content-encoding``). gzip and deflate
are undone with the standard library's ``zlib``; httpx's own decoders are private
(``httpx._decoders``), and br/zstd need packages this library does not require: for those, and
for a body that does not decode, the decoder keeps a ``problem`` and the recording is refused
with it, never written as bytes read as text.
"""

from __future__ import annotations

import zlib


class BodyDecoder:
    """Decodes a body chunk by chunk; ``problem`` says why it could not, if it could not."""

    def __init__(self, encoding: str = "") -> None:
        self.encoding = encoding
        self.problem: str | None = None
        # (name, decompressor, whether it has produced output yet), in decoding order.
        self._steps: list[list[object]] = []
        for name in reversed([part.strip().lower() for part in encoding.split(",")]):
            if name in ("", "identity"):
                continue
            if name in ("gzip", "x-gzip"):
                self._steps.append([name, zlib.decompressobj(16 + zlib.MAX_WBITS), False])
            elif name == "deflate":
                self._steps.append([name, zlib.decompressobj(), False])
            else:
                self.problem = (
                    f"the server sent the body with content-encoding {encoding!r}, which the "
                    "recorder does not decode (it asked for identity; gzip and deflate are "
                    "decoded): make the server send it uncompressed"
                )
                self._steps = []
                return

    @property
    def decodes(self) -> bool:
        """Whether there is anything to undo."""
        return bool(self._steps)

    def feed(self, chunk: bytes) -> bytes:
        """The decoded bytes of one more chunk (nothing once a problem was met)."""
        if self.problem is not None:
            return b""
        try:
            for step in self._steps:
                chunk = self._decompress(step, chunk)
        except zlib.error as error:
            self._fail(error)
            return b""
        return chunk

    def flush(self) -> bytes:
        """What the decoders still hold once the body ended; a compressed stream that did not
        end is a problem (the body was cut)."""
        if self.problem is not None:
            return b""
        out = b""
        try:
            for step in self._steps:
                out = self._decompress(step, out) + _decompressor(step).flush()
        except zlib.error as error:
            self._fail(error)
            return b""
        if any(not _decompressor(step).eof for step in self._steps):
            self.problem = (
                f"the server's {self.encoding} body ended before its compressed stream did "
                "(a truncated body); nothing was written"
            )
            return b""
        return out

    @staticmethod
    def _decompress(step: list[object], chunk: bytes) -> bytes:
        try:
            out = _decompressor(step).decompress(chunk)
        except zlib.error:
            # "deflate" is zlib-wrapped by the standard, raw from some servers (httpx tries
            # both): on the first bytes, try raw.
            if step[0] != "deflate" or step[2]:
                raise
            step[1] = zlib.decompressobj(-zlib.MAX_WBITS)
            out = _decompressor(step).decompress(chunk)
        step[2] = step[2] or bool(chunk)
        return out

    def _fail(self, error: zlib.error) -> None:
        self.problem = (
            f"the server's body says content-encoding {self.encoding!r} but does not decode "
            f"as such ({error}); nothing was written"
        )


def _decompressor(step: list[object]) -> zlib._Decompress:
    return step[1]  # type: ignore[return-value]
