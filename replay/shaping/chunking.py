"""How a replayed body is cut into the chunks a client reads. Pure.

- ``event`` (the default): one chunk per recorded event, as a server flushes them;
- ``bytes:N``: every N bytes, wherever that falls (inside a UTF-8 sequence, between ``\\r``
  and ``\\n``, across events);
- ``merged``: the whole body in one chunk, as a buffering proxy delivers it;
- ``random`` or ``random:SEED``: cuts at pseudo-random places, from tiny to several events
  long; the same seed cuts the same body the same way.

Every mode delivers the same bytes in the same order; only the cuts move.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from replay.errors import LLMReplayError

__all__ = ["CHUNKING_FORMS", "Chunking", "Piece", "rechunk"]

CHUNKING_FORMS = '"event", "bytes:N" (N >= 1), "merged", "random" or "random:SEED"'


@dataclass(frozen=True, slots=True)
class Chunking:
    """A chunking mode; ``size`` for ``bytes``, ``seed`` for ``random`` (None: the session's)."""

    mode: Literal["event", "bytes", "merged", "random"] = "event"
    size: int = 0
    seed: int | None = None

    @classmethod
    def parse(cls, text: object, where: str = "chunking") -> Chunking:
        """``event``, ``bytes:N``, ``merged``, ``random`` or ``random:SEED``."""
        if isinstance(text, Chunking):
            return text
        if not isinstance(text, str):
            raise _bad(text, where)
        name, colon, argument = text.strip().partition(":")
        if name in ("event", "merged") and not colon:
            return cls(name)  # type: ignore[arg-type]
        if name == "random" and not colon:
            return cls("random")
        if name in ("bytes", "random") and colon:
            try:
                number = int(argument)
            except ValueError:
                raise _bad(text, where) from None
            if name == "bytes":
                if number < 1:
                    raise _bad(text, where)
                return cls("bytes", size=number)
            return cls("random", seed=number)
        raise _bad(text, where)

    def __str__(self) -> str:
        if self.mode == "bytes":
            return f"bytes:{self.size}"
        if self.mode == "random" and self.seed is not None:
            return f"random:{self.seed}"
        return self.mode


@dataclass(frozen=True, slots=True)
class Piece:
    """One chunk, and the index of the event whose bytes it completes (it cannot be sent
    before that event exists)."""

    data: bytes
    event: int


def rechunk(events: Sequence[bytes], chunking: Chunking, seed: int = 0) -> list[Piece]:
    """The chunks of a body whose events (or whole body, as one event) are ``events``.
    ``seed`` is used by ``random`` when the mode carries none."""
    if chunking.mode == "event":
        return [Piece(data, index) for index, data in enumerate(events) if data]
    body = b"".join(events)
    if not body:
        return []
    cuts: Sequence[int]
    if chunking.mode == "merged":
        cuts = []
    elif chunking.mode == "bytes":
        cuts = range(chunking.size, len(body), chunking.size)
    else:
        cuts = _random_cuts(len(body), chunking.seed if chunking.seed is not None else seed)
    ends = _event_ends(events)
    pieces: list[Piece] = []
    start, event = 0, 0
    for end in [*cuts, len(body)]:
        while ends[event] < end:  # the event holding the piece's last byte
            event += 1
        pieces.append(Piece(body[start:end], event))
        start = end
    return pieces


def _random_cuts(length: int, seed: int) -> list[int]:
    """Cut offsets, increasing: lengths drawn from tiny (1-3 bytes, the cuts that split UTF-8
    and line ends) to a few hundred (several events in one chunk)."""
    generator = random.Random(seed)
    cuts: list[int] = []
    at = 0
    while True:
        scale = generator.choice((3, 16, 64, 400))
        at += generator.randint(1, scale)
        if at >= length:
            return cuts
        cuts.append(at)


def _event_ends(events: Sequence[bytes]) -> list[int]:
    """The offset just past each event's last byte in the joined body."""
    ends, total = [], 0
    for data in events:
        total += len(data)
        ends.append(total)
    return ends


def _bad(text: object, where: str) -> LLMReplayError:
    return LLMReplayError(
        f"pytest-llm-playback: {where} {text!r} is not a chunking mode; use {CHUNKING_FORMS}"
    )
