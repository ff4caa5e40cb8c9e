"""The class report's files, from its figures (:mod:`course_kit.teach.report.stats`): one HTML
page that opens offline (its charts inside it as ``data:`` images, no script, no link), a
Markdown summary beside the chart files, and CSV tables for a spreadsheet.

Everything a student wrote (names, messages, answers) is escaped: Jinja's autoescape in the
HTML, one line and escaped pipes in Markdown tables, formula-proof cells in the CSVs.
"""

import base64
import itertools
from pathlib import Path
from typing import Any

import jinja2

from course_kit.teach.grade.spreadsheet import csv_text
from course_kit.teach.report.stats import AnswerGroup, ClassStats, ProblemKind

PROBLEM_SECTIONS: list[tuple[ProblemKind, str, str]] = [
    ("not graded", "Not graded", "Every submission could be graded."),
    ("crash", "Crashes", "No file failed to import and no submission process died."),
    ("timeout", "Timeouts", "No test ran out of time."),
    ("untouched", "Untouched and missing exercises", "Every submission changed every exercise."),
    ("flagged", "Flagged for review", "Nothing was flagged."),
]
TASK_COLUMNS = ["exercise", "task", "title", "points", "attempted", "passed", "pass_rate"]
TEST_COLUMNS = ["test", "exercise", "task", "hidden", "failed_by", "first_message", "submissions"]
PROBLEM_COLUMNS = ["kind", "submission", "exercise", "detail"]
ANSWER_COLUMNS = ["exercise", "variable", "outcome", "answer", "count", "submissions"]
OUTCOME_WORDS = {
    "all right": "Scored part all right",
    "some wrong": "Scored part not all right",
    "not graded": "Exercise not graded (untouched, missing, broken or an error)",
}


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def percent(rate: float | None) -> str:
    return "not attempted" if rate is None else f"{100 * rate:.0f} %"


def scores_alt(stats: ClassStats) -> str:
    counts = "; ".join(f"{count} scored {score}" for score, count in stats.histogram() if count)
    return f"Bar chart of the scores out of {stats.max_score}: {counts or 'none graded'}."


def rates_alt(stats: ClassStats) -> str:
    rates = "; ".join(f"{t.label} {percent(t.rate)}" for t in stats.tasks)
    return f"Bar chart of the pass rate per task: {rates}."


def by_question(stats: ClassStats) -> list[tuple[tuple[str, str], list[AnswerGroup]]]:
    def key(group: AnswerGroup) -> tuple[str, str]:
        return (group.exercise, group.variable)

    return [(k, list(g)) for k, g in itertools.groupby(stats.answers, key=key)]


def html(
    stats: ClassStats, charts: dict[str, bytes], folder: str, generated: str, note: str
) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,  # names, messages and answers are the students'
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = environment.get_template("class-report.html.j2")
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in charts.items()}
    return page.render(
        stats=stats,
        charts=encoded,
        folder=folder,
        generated=generated,
        note=note,
        number=number,
        percent=percent,
        scores_alt=scores_alt(stats),
        rates_alt=rates_alt(stats),
        problem_sections=PROBLEM_SECTIONS,
        answers=by_question(stats),
        outcome_words=OUTCOME_WORDS,
    )


def _md(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(stats: ClassStats, chart_files: dict[str, str], note: str) -> str:
    lines = [f"# Class report: {stats.course}", ""]
    if note:
        lines += [f"> {note}", ""]
    lines += [
        f"- Submissions: {stats.submissions}",
        f"- Graded: {stats.graded}; not graded (errors): {stats.errored};"
        f" flagged for review: {stats.flagged}",
        f"- Mean score {number(stats.mean)}, median {number(stats.median)}"
        f" (out of {stats.max_score})",
        "",
        "## Pass rate per task",
        "",
        "Of the graded submissions whose exercise was changed from the starting stub.",
        "",
    ]
    if "pass_rates" in chart_files:
        lines += [f"![{rates_alt(stats)}]({chart_files['pass_rates']})", ""]
    lines += [
        "| Task | Title | Passed | Attempted | Pass rate |",
        "| --- | --- | --: | --: | --: |",
    ]
    lines += [
        f"| {t.label} | {_md(t.title)} | {t.passed} | {t.attempted} | {percent(t.rate)} |"
        for t in stats.tasks
    ]
    lines += ["", "## Scores", ""]
    if "scores" in chart_files:
        lines += [f"![{scores_alt(stats)}]({chart_files['scores']})", ""]
    lines += ["| Score | Submissions |", "| --: | --: |"]
    lines += [f"| {score} | {count} |" for score, count in stats.histogram() if count]
    lines += ["", "## Most-failed tests", ""]
    if stats.failed_tests:
        lines += ["| Test | Task | Failed by | First message | Submissions |"]
        lines += ["| --- | --- | --: | --- | --- |"]
        for test in stats.failed_tests:
            hidden = " (hidden)" if test.hidden else ""
            lines.append(
                f"| `{_md(test.name)}`{hidden} | {test.exercise} task {test.task}"
                f" | {len(test.submissions)} | {_md(test.first_message)}"
                f" | {_md(', '.join(test.submissions))} |"
            )
    else:
        lines.append("No test failed.")
    for kind, title, empty in PROBLEM_SECTIONS:
        lines += ["", f"## {title}", ""]
        found = stats.problems_of(kind)
        if not found:
            lines.append(empty)
            continue
        lines += ["| Submission | Exercise | What happened |", "| --- | --- | --- |"]
        lines += [
            f"| {_md(p.submission)} | {p.exercise or 'all'} | {_md(p.detail)} |" for p in found
        ]
    lines += ["", "## Free-text answers"]
    for (exercise, variable), groups in by_question(stats):
        lines += ["", f"### {exercise}: `{variable}`"]
        for group in groups:
            who = ", ".join(group.submissions)
            lines += ["", f"**{OUTCOME_WORDS[group.outcome]}** ({len(group.submissions)}): {who}"]
            text = group.text or "(no answer)"
            lines += [""] + [f"> {line}" if line else ">" for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def tables(stats: ClassStats) -> dict[str, str]:
    """The CSV files: file name → text."""
    tasks = [
        {
            "exercise": t.exercise,
            "task": t.task,
            "title": t.title,
            "points": t.points,
            "attempted": t.attempted,
            "passed": t.passed,
            "pass_rate": "" if t.rate is None else round(t.rate, 4),
        }
        for t in stats.tasks
    ]
    tests = [
        {
            "test": t.nodeid,
            "exercise": t.exercise,
            "task": t.task,
            "hidden": "yes" if t.hidden else "no",
            "failed_by": len(t.submissions),
            "first_message": t.first_message,
            "submissions": "; ".join(t.submissions),
        }
        for t in stats.failed_tests
    ]
    problems = [
        {"kind": p.kind, "submission": p.submission, "exercise": p.exercise, "detail": p.detail}
        for p in stats.problems
    ]
    answers = [
        {
            "exercise": g.exercise,
            "variable": g.variable,
            "outcome": g.outcome,
            "answer": g.text or "",
            "count": len(g.submissions),
            "submissions": "; ".join(g.submissions),
        }
        for g in stats.answers
    ]
    return {
        "class-tasks.csv": csv_text(TASK_COLUMNS, tasks),
        "class-tests.csv": csv_text(TEST_COLUMNS, tests),
        "class-problems.csv": csv_text(PROBLEM_COLUMNS, problems),
        "class-answers.csv": csv_text(ANSWER_COLUMNS, answers),
    }
