"""The class report's two charts, drawn with matplotlib as PNG bytes: the score histogram and
the pass rate per task. matplotlib's object API (a ``Figure`` of its own, no ``pyplot``) draws
without a display and without global state; it is imported here only, when a report is
written (it takes about a second), never on the grading path.
"""

import io
from typing import Any

from course_kit.teach.report.stats import ClassStats

INK = "#1f2933"
BAR = "#2b6cb0"  # 5.0:1 on white
EMPTY = "#9aa5b1"


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    axes = figure.subplots()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=INK)
    return figure, axes


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})  # no version stamp
    return buffer.getvalue()


def score_histogram(stats: ClassStats) -> bytes:
    """How many graded submissions got each score, 0 to the maximum."""
    from matplotlib.ticker import MaxNLocator

    figure, axes = _figure(7.5, 3.2)
    scores, counts = zip(*stats.histogram(), strict=True)
    axes.bar(scores, counts, width=0.8, color=BAR)
    axes.set_xlabel(f"score (out of {stats.max_score})", color=INK)
    axes.set_ylabel("submissions", color=INK)
    axes.set_xticks(range(0, stats.max_score + 1, 2 if stats.max_score > 12 else 1))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Scores of {stats.graded} graded submissions", color=INK)
    return _png(figure)


def pass_rates(stats: ClassStats) -> bytes:
    """One bar per task, its pass rate in percent; a task nobody attempted is marked so."""
    tasks = list(stats.tasks)
    figure, axes = _figure(7.5, 0.9 + 0.32 * len(tasks))
    rates = [100 * t.rate if t.rate is not None else 0 for t in tasks]
    colours = [BAR if t.rate is not None else EMPTY for t in tasks]
    places = range(len(tasks))
    axes.barh(places, rates, color=colours, height=0.7)
    axes.set_yticks(places, [t.label for t in tasks], color=INK)
    axes.invert_yaxis()  # the course's order, top to bottom
    axes.set_xlim(0, 115)
    axes.set_xticks(range(0, 101, 20))
    axes.set_xlabel("passed, % of the submissions that attempted the task", color=INK)
    for place, task in zip(places, tasks, strict=True):
        note = f"{task.passed}/{task.attempted}" if task.attempted else "not attempted"
        axes.text(rates[place] + 1, place, note, va="center", fontsize=8, color=INK)
    axes.set_title("Pass rate per task", color=INK)
    return _png(figure)
