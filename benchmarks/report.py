"""Rows of the report, the targets they are held to, the printed table and the JSON. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from benchmarks.timing import CPU, TOTAL, Summary, paired_difference, paired_ratio

Verdict = Literal["PASS", "MISS", "info", "n/a"]


class Where(NamedTuple):
    """Which row: the section, the HTTP flavour and what is measured."""

    section: str
    flavour: str
    measure: str


@dataclass(slots=True)
class Row:
    """One figure of ours against one reference, and the target it is held to."""

    section: str
    flavour: str
    measure: str
    ours: Summary | None
    reference_name: str = ""
    reference: Summary | None = None
    target: str = ""
    value: str = ""
    verdict: Verdict = "info"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The row with its samples, for the JSON report."""
        return {
            "section": self.section,
            "flavour": self.flavour,
            "measure": self.measure,
            "ours": self.ours.to_json() if self.ours else None,
            "reference_name": self.reference_name,
            "reference": self.reference.to_json() if self.reference else None,
            "target": self.target,
            "value": self.value,
            "verdict": self.verdict,
            "note": self.note,
            **self.extra,
        }


Figures = Mapping[str, Summary]  # one variant's summaries: total (wall), cpu, others


def _cpu(ours: Figures, reference: Figures, key: str) -> tuple[Summary, Summary] | None:
    """The CPU-time pair beside a wall-time comparison, where both sides have one."""
    if key != TOTAL or CPU not in ours or CPU not in reference:
        return None
    return ours[CPU], reference[CPU]


def ratio_row(
    where: Where,
    ours: Figures,
    reference_name: str,
    reference: Figures,
    limit: float,
    key: str = TOTAL,
) -> Row:
    """Ours ≤ ``limit`` x reference (ratio of the medians of ``key``)."""
    ratio = ours[key].median / reference[key].median
    extra: dict[str, Any] = {
        "ratio": ratio,
        "paired_ratio": paired_ratio(ours[key], reference[key]),
    }
    value = f"{ratio:.3f} x"
    if (cpu := _cpu(ours, reference, key)) is not None:
        extra["cpu_ratio"] = cpu[0].median / cpu[1].median
        value += f" (cpu {extra['cpu_ratio']:.3f} x)"
    return Row(
        *where,
        ours[key],
        reference_name,
        reference[key],
        target=f"≤ {limit:.2f} x {reference_name}",
        value=value,
        verdict="PASS" if ratio <= limit else "MISS",
        extra=extra,
    )


def speedup_row(
    where: Where,
    ours: Figures,
    reference_name: str,
    reference: Figures,
    at_least: float,
    key: str = TOTAL,
) -> Row:
    """Reference ≥ ``at_least`` x ours: we are that many times faster."""
    speedup = reference[key].median / ours[key].median
    extra: dict[str, Any] = {
        "speedup": speedup,
        "paired_speedup": 1 / paired_ratio(ours[key], reference[key]),
    }
    value = f"{speedup:.1f} x faster"
    if (cpu := _cpu(ours, reference, key)) is not None:
        extra["cpu_speedup"] = cpu[1].median / cpu[0].median
        value += f" (cpu {extra['cpu_speedup']:.1f} x)"
    return Row(
        *where,
        ours[key],
        reference_name,
        reference[key],
        target=f"≥ {at_least:g} x faster than {reference_name}",
        value=value,
        verdict="PASS" if speedup >= at_least else "MISS",
        extra=extra,
    )


def difference_row(
    where: Where,
    ours: Figures,
    reference_name: str,
    reference: Figures,
    limit_ms: float,
    key: str = TOTAL,
    cpu_key: str | None = None,
) -> Row:
    """Ours - reference ≤ ``limit_ms`` (difference of the medians of ``key``), with the
    median of the round-by-round differences and the CPU difference beside it (from
    ``cpu_key``; by default ``cpu`` when ``key`` is total)."""
    difference = (ours[key].median - reference[key].median) * 1e3
    paired = paired_difference(ours[key], reference[key]) * 1e3
    extra: dict[str, Any] = {"difference_ms": difference, "paired_difference_ms": paired}
    shown = [f"paired {paired:+.2f}"]
    cpu_key = cpu_key or (CPU if key == TOTAL else None)
    if cpu_key is not None and cpu_key in ours and cpu_key in reference:
        extra["cpu_difference_ms"] = (ours[cpu_key].median - reference[cpu_key].median) * 1e3
        shown.append(f"cpu {extra['cpu_difference_ms']:+.2f}")
    return Row(
        *where,
        ours[key],
        reference_name,
        reference[key],
        target=f"≤ {reference_name} + {limit_ms:g} ms",
        value=f"{difference:+.2f} ms ({', '.join(shown)})",
        verdict="PASS" if difference <= limit_ms else "MISS",
        extra=extra,
    )


def info_row(where: Where, ours: Summary, note: str = "") -> Row:
    """A figure reported without a target."""
    return Row(*where, ours, verdict="info", note=note)


def not_applicable(where: Where, note: str) -> Row:
    """A comparison that cannot be made here, and why."""
    return Row(*where, None, verdict="n/a", note=note)


def milliseconds(summary: Summary | None) -> str:
    """``median [min-max]`` in ms, with a precision that suits the size."""
    if summary is None:
        return "-"
    digits = 3 if summary.median < 0.01 else 2 if summary.median < 0.1 else 1
    return (
        f"{summary.median * 1e3:.{digits}f} "
        f"[{summary.low * 1e3:.{digits}f}-{summary.high * 1e3:.{digits}f}]"
    )


HEADINGS = ("section", "flavour", "measure", "ours ms", "reference ms", "value", "target", "")


def table(rows: Iterable[Row]) -> str:
    """The rows as an aligned text table (reference figures under the reference's name)."""
    cells = [HEADINGS]
    for row in rows:
        reference = f"{row.reference_name} {milliseconds(row.reference)}" if row.reference else ""
        value = row.value or row.note
        cells.append(
            (
                row.section,
                row.flavour,
                row.measure,
                milliseconds(row.ours),
                reference,
                value,
                row.target,
                row.verdict,
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADINGS))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table, for the README."""
    lines = [
        "| " + " | ".join((*HEADINGS[:-1], "verdict")) + " |",
        "|" + "---|" * len(HEADINGS),
    ]
    for row in rows:
        reference = f"{row.reference_name} {milliseconds(row.reference)}" if row.reference else ""
        cells = (
            row.section,
            row.flavour,
            row.measure,
            milliseconds(row.ours),
            reference,
            row.value or row.note,
            row.target,
            row.verdict,
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def rows_from_json(rows: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows back from the JSON report (of this run or another interpreter's)."""

    def summary(figure: dict[str, Any] | None) -> Summary | None:
        if figure is None:
            return None
        return Summary.of([sample / 1e3 for sample in figure["samples_ms"]])

    return [
        Row(
            row["section"],
            row["flavour"],
            row["measure"],
            summary(row["ours"]),
            row["reference_name"],
            summary(row["reference"]),
            row["target"],
            row["value"],
            row["verdict"],
            row["note"],
        )
        for row in rows
    ]
