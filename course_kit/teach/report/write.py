"""``stepup teach report OUT``: the class report of a batch folder, written into it. ``stepup
teach batch`` writes it too, after the gradebook.

Files: ``class-report.html`` (one page, opens offline), ``class-summary.md`` with the two
charts beside it (``class-scores.png``, ``class-pass-rates.png``), and the tables as CSV
(``class-tasks.csv``, ``class-tests.csv``, ``class-problems.csv``, ``class-answers.csv``).
"""

from datetime import UTC, datetime
from pathlib import Path

from course_kit.teach.grade.adapters import write_atomic
from course_kit.teach.report import render
from course_kit.teach.report.rows import read_class
from course_kit.teach.report.stats import class_stats
from course_kit.text import printable

PAGE = "class-report.html"
SUMMARY = "class-summary.md"
CHARTS = {"scores": "class-scores.png", "pass_rates": "class-pass-rates.png"}
TABLES = ("class-tasks.csv", "class-tests.csv", "class-problems.csv", "class-answers.csv")
REPORT_FILES = (PAGE, SUMMARY, *CHARTS.values(), *TABLES)  # a submission's folder never takes one


def write_report(folder: Path) -> list[Path]:
    """Read every results folder under ``folder`` and write the report there; returns the
    files written, the page first. :class:`~course_kit.teach.report.rows.ReportError` when
    there is nothing to report on."""
    found = read_class(folder)
    stats = class_stats(found.rows, found.unreadable)
    note = ""
    try:
        from course_kit.teach.report.charts import pass_rates, score_histogram

        charts = {"scores": score_histogram(stats), "pass_rates": pass_rates(stats)}
    except ImportError:  # matplotlib comes with the kit's `lab` extra
        charts = {}
        note = "the charts are left out: matplotlib is not installed (pip install matplotlib)"
    generated = datetime.now(UTC).isoformat(timespec="minutes")
    where = printable(str(folder.resolve()))
    written = [folder / PAGE, folder / SUMMARY]
    write_atomic(written[0], render.html(stats, charts, where, generated, note))
    chart_files = {name: CHARTS[name] for name in charts}
    write_atomic(written[1], render.markdown(stats, chart_files, note))
    for name, data in charts.items():
        written.append(folder / CHARTS[name])
        write_atomic(written[-1], data)
    for name, text in render.tables(stats).items():
        written.append(folder / name)
        write_atomic(written[-1], text)
    return written
