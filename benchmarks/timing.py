"""Interleaved timing on a noisy machine, and the summaries reported. Pure apart from the clock.

Every variant of a comparison runs once per round, in an order that rotates from round to
round, so that a burst of load from other work hits all variants alike; figures are medians
with their min and max, and ratios are taken between medians measured in the same process.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A variant: called untimed to set up one sample, it returns the timed call. The timed call
# may return extra figures it measured itself (seconds), such as the time to a first event.
Timed = Callable[[], Mapping[str, float] | None]
Variant = Callable[[], Timed]

TOTAL = "total"
CPU = "cpu"  # process CPU time of the timed call: less disturbed by other work than wall time


@dataclass(frozen=True, slots=True)
class Summary:
    """The median, min and max of samples, in seconds."""

    median: float
    low: float
    high: float
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        """The summary of at least one sample."""
        return cls(statistics.median(samples), min(samples), max(samples), tuple(samples))

    def scaled(self, factor: float) -> Summary:
        """The same samples multiplied by ``factor`` (say, divided by a count of exchanges)."""
        return Summary.of([sample * factor for sample in self.samples])

    def to_json(self) -> dict[str, object]:
        """Milliseconds, for the JSON report."""
        return {
            "median_ms": self.median * 1e3,
            "min_ms": self.low * 1e3,
            "max_ms": self.high * 1e3,
            "samples_ms": [sample * 1e3 for sample in self.samples],
        }


def interleaved(
    variants: Mapping[str, Variant], repeats: int, warmups: int = 1
) -> dict[str, dict[str, Summary]]:
    """Run each variant ``warmups`` times untimed, then ``repeats`` timed rounds, rotating
    the order. Returns, per variant, ``total`` (wall time of the timed call), ``cpu`` (this
    process's CPU time during it) and any figure the timed call reported."""
    names = list(variants)
    for _ in range(warmups):
        for name in names:
            variants[name]()()
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            timed = variants[name]()
            gc.collect()
            cpu = time.process_time()
            started = time.perf_counter()
            extra = timed()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            figures[name].setdefault(TOTAL, []).append(elapsed)
            figures[name].setdefault(CPU, []).append(cpu)
            for key, value in (extra or {}).items():
                figures[name].setdefault(key, []).append(value)
    return {
        name: {key: Summary.of(values) for key, values in per_name.items()}
        for name, per_name in figures.items()
    }


def scaled(figures: Mapping[str, Summary], factor: float) -> dict[str, Summary]:
    """Every summary of a variant multiplied by ``factor`` (say, 1 / exchanges per sample)."""
    return {key: summary.scaled(factor) for key, summary in figures.items()}


def paired_ratio(ours: Summary, reference: Summary) -> float:
    """The median of the round-by-round ratios: less sensitive to a slow round than the ratio
    of medians, and reported beside it."""
    return statistics.median(a / b for a, b in zip(ours.samples, reference.samples, strict=True))


def paired_difference(ours: Summary, reference: Summary) -> float:
    """The median of the round-by-round differences, in seconds."""
    return statistics.median(a - b for a, b in zip(ours.samples, reference.samples, strict=True))
