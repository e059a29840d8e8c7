"""How much a miss may read to find the nearest recording: a miss is never slow.

The search for the recording whose request differs least reads the endpoint's files one by
one; it stops after ``MAX_CANDIDATES`` files or ``MAX_SECONDS``, whichever comes first, skips
files larger than ``MAX_FILE_BYTES`` and anything that is not a regular file (see
``replay.store.file_reading``), and says when it stopped early.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

MAX_CANDIDATES = 500
MAX_SECONDS = 0.5
MAX_FILE_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


class Bounded(Generic[T]):
    """The first items of an iterable, up to a count and a time; ``cut`` says why it stopped
    early, if it did."""

    def __init__(
        self,
        items: Iterable[T],
        count: int = MAX_CANDIDATES,
        seconds: float = MAX_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items = items
        self._count = count
        self._seconds = seconds
        self._clock = clock
        self.cut: str | None = None

    def __iter__(self) -> Iterator[T]:
        deadline = self._clock() + self._seconds
        taken = 0
        iterator = iter(self._items)
        while True:
            if taken >= self._count:
                self.cut = f"the first {taken} recordings"
                return
            if self._clock() > deadline:
                self.cut = f"{taken} recordings in {self._seconds:g} s"
                return
            try:
                item = next(iterator)
            except StopIteration:
                return
            taken += 1
            yield item
