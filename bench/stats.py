"""Small statistics and table printing for the benchmarks."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100), nearest-rank on the sorted samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    value: str
    note: str = ""


def summary(samples: Sequence[float]) -> str:
    return f"p50 {ms(percentile(samples, 50))}, p99 {ms(percentile(samples, 99))}"


def mean(samples: Sequence[float]) -> float:
    return statistics.fmean(samples)


def render(rows: Sequence[Row], markdown: bool = False) -> str:
    """One table: section, what, figure, note."""
    header = ("part", "measure", "figure", "note")
    cells = [header] + [(r.section, r.measure, r.value, r.note) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c) + " |" for c in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(text.ljust(widths[i]) for i, text in enumerate(c)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
