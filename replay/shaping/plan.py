"""How a test's replayed answers are delivered: at the recorded pace, cut into other chunks,
with faults injected. Pure: it plans what to send when; ``replay.shaping.delivery`` sends it.

``Shaping`` is the setting (the marker's ``pace``, ``chunking`` and ``faults``, the ini
settings and command-line options); a ``Shaper`` applies it to the requests of one test and
remembers which faults it has used up. The default ``Shaping()`` changes nothing, and a
transport whose shaping is the default takes today's direct path (no ``Shaper`` at all).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from replay.core.hashing import normalize_endpoint
from replay.errors import LLMReplayError
from replay.shaping.chunking import Chunking, rechunk
from replay.shaping.faults import CutAfter, DelayFirstByte, FailWith, Fault, describe, fault

if TYPE_CHECKING:
    from replay.core.stats import Stats

__all__ = ["Delivery", "Head", "Shaper", "Shaping", "seed_of_test", "shaper_of_test"]


@dataclass(frozen=True)
class Shaping:
    """How replayed answers are delivered.

    ``pace``: replay each event at its recorded time times this factor (0: at once, the
    default; 1: as recorded; 0.1: ten times as fast). ``chunking``: see ``replay.shaping.chunking``.
    ``faults``: ``FailWith``, ``CutAfter`` and ``DelayFirstByte`` objects or their dict forms.
    """

    pace: float = 0.0
    chunking: Chunking = field(default_factory=Chunking)
    faults: tuple[Fault, ...] = ()

    @classmethod
    def of(cls, pace: object = 0.0, chunking: object = "event", faults: object = ()) -> Shaping:
        """A shaping from loosely typed input (marker, ini, command line), checked: a clear
        ``LLMReplayError`` names what is wrong."""
        if isinstance(faults, str | bytes | Mapping) or not isinstance(faults, Iterable):
            raise LLMReplayError(
                f"pytest-llm-playback: faults takes a list of faults, got {faults!r}"
            )
        return cls(pace_factor(pace), Chunking.parse(chunking), tuple(fault(f) for f in faults))

    def __post_init__(self) -> None:
        object.__setattr__(self, "pace", pace_factor(self.pace))
        object.__setattr__(self, "chunking", Chunking.parse(self.chunking))
        object.__setattr__(self, "faults", tuple(fault(item) for item in self.faults))

    @property
    def is_default(self) -> bool:
        """Whether this delivers as plain replay does."""
        return self.pace == 0 and self.chunking.mode == "event" and not self.faults


def pace_factor(value: object, where: str = "pace") -> float:
    """A pace factor: a finite number >= 0 (a string from the command line or ini is read)."""
    number: object = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = value
    if (
        isinstance(number, bool)
        or not isinstance(number, int | float)
        or not math.isfinite(number)
        or number < 0
    ):
        raise LLMReplayError(
            f"pytest-llm-playback: {where} {value!r} is not a number >= 0 "
            "(0: no waiting, 1: the recorded pace, 0.1: ten times as fast)"
        )
    return float(number)


def seed_of_test(session_seed: int, test_id: str) -> int:
    """The random-chunking seed of one test: fixed by the session seed and the test's id, so
    that re-running with the same session seed cuts every test's bodies the same way."""
    digest = hashlib.sha256(f"{session_seed}:{test_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True, slots=True)
class Head:
    """What happens before a request is answered: a wait, and an injected error or not."""

    delay: float = 0.0
    failure: FailWith | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A body to send: (seconds after the request arrived, bytes) in order; ``cut``: the
    connection then ends before the body is complete."""

    pieces: list[tuple[float, bytes]]
    cut: bool = False


def shaper_of_test(shaping: Shaping, stats: Stats, seed: int, test_id: str) -> Shaper | None:
    """The shaper of one test of a pytest session: faults and random chunking counted in the
    session's stats under the test's id; None if ``shaping`` changes nothing."""
    if shaping.is_default:
        return None
    if shaping.chunking.mode == "random" and shaping.chunking.seed is None:
        stats.random_chunked += 1
    return Shaper(shaping, seed, on_event=lambda note: stats.faults.append(f"{test_id}: {note}"))


class Shaper:
    """Applies a ``Shaping`` to the requests of one test. Thread-safe: the faults' counts are
    shared by every client of the test."""

    def __init__(
        self,
        shaping: Shaping,
        seed: int = 0,
        on_event: Callable[[str], None] = lambda note: None,
    ) -> None:
        self.shaping = shaping
        self.seed = seed
        self._on_event = on_event  # told of each fault injected, for the session report
        self._left = [item.times for item in shaping.faults]
        self._bodies = 0
        self._lock = threading.Lock()

    def with_shaping(self, shaping: Shaping) -> Shaper:
        """A shaper of its own for ``shaping`` with this one's seed and fault report: a
        transport of the same test that shapes its answers otherwise."""
        return Shaper(shaping, self.seed, self._on_event)

    def head(self, method: str, endpoint: str) -> Head:
        """The delay and injected error for the next request to ``endpoint``; uses them up.
        A request answered by an injected error uses no recording and no other fault."""
        delay, failure = 0.0, None
        with self._lock:
            for index in self._applicable(endpoint, (DelayFirstByte, FailWith)):
                item = self.shaping.faults[index]
                if isinstance(item, DelayFirstByte) and delay == 0.0:
                    delay = item.seconds
                    self._use(index, method, endpoint)
                elif isinstance(item, FailWith) and failure is None:
                    failure = item
                    self._use(index, method, endpoint)
        return Head(delay, failure)

    def body(
        self,
        events: Sequence[bytes],
        event_ms: Sequence[float] | None,
        method: str,
        endpoint: str,
    ) -> Delivery:
        """The pieces of a replayed body (its events, or the whole body as one) and when
        each is due; uses up a ``CutAfter`` fault that applies."""
        cut_at: int | None = None
        with self._lock:
            self._bodies += 1
            number = self._bodies
            for index in self._applicable(endpoint, (CutAfter,)):
                item = self.shaping.faults[index]
                assert isinstance(item, CutAfter)
                cut_at = item.events
                self._use(index, method, endpoint)
                break
        shaping = self.shaping
        kept = events if cut_at is None else events[:cut_at]
        pieces = rechunk(kept, shaping.chunking, self.seed + number)
        if shaping.pace and event_ms is not None and len(event_ms) == len(events):
            scale = shaping.pace / 1000
            timed = [(event_ms[piece.event] * scale, piece.data) for piece in pieces]
        else:
            timed = [(0.0, piece.data) for piece in pieces]
        return Delivery(timed, cut=cut_at is not None and cut_at < len(events))

    def _applicable(self, endpoint: str, kinds: tuple[type, ...]) -> list[int]:
        return [
            index
            for index, item in enumerate(self.shaping.faults)
            if isinstance(item, kinds)
            and self._left[index] > 0
            and (item.endpoint is None or normalize_endpoint(item.endpoint) == endpoint)
        ]

    def _use(self, index: int, method: str, endpoint: str) -> None:
        self._left[index] -= 1
        self._on_event(f"{describe(self.shaping.faults[index])} on {method} {endpoint}")
