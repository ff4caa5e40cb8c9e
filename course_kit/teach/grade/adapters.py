"""Other shapes of the canonical results: Gradescope's ``results.json``, an Exercism v3
``results.json``, JUnit XML for CI dashboards and Markdown summaries for people.

Each adapter is a pure function of the canonical results, so every format tells the same story.
Who reads what decides what each may say about the hidden tests. The canonical file and
``instructor-summary.md`` are the instructor's: they name every failed test, hidden ones with
their inputs and messages. Every other file may reach a student (Gradescope and Exercism show
theirs, a CI dashboard shows JUnit, ``summary.md`` is written to be handed back): there a hidden
test is only counted, per task, and never named.
"""

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_kit.teach.grade.results import Results, TestEntry
from course_kit.text import one_line, readable

CANONICAL = "stepup-results.json"
INSTRUCTOR_SUMMARY = "instructor-summary.md"
WHEN = {  # how a student is told when a held-back exercise shows
    "after_due_date": "after the due date",
    "after_published": "once your instructor publishes the grades",
    "hidden": "never",
}


def by_task(results: Results) -> dict[tuple[str, int], list[TestEntry]]:
    found: dict[tuple[str, int], list[TestEntry]] = {}
    for test in results.tests:
        found.setdefault((test.exercise, test.task), []).append(test)
    return found


def hidden_count(tests: list[TestEntry]) -> str | None:
    """``2 of 8 hidden tests failed``: all a student may learn of a task's hidden tests."""
    hidden = [t for t in tests if t.visibility == "hidden"]
    failed = sum(t.status != "pass" for t in hidden)
    return f"{failed} of {len(hidden)} hidden tests failed" if failed else None


def gradescope(results: Results) -> dict[str, Any]:
    """Gradescope's autograder format: one entry per task (the unit that earns points), shown
    when its exercise's ``visibility`` says (course.toml). Gradescope hides the total score
    while any entry is held back; the summary line does not give it away either."""
    tests: list[dict[str, Any]] = []
    grouped = by_task(results)
    for exercise in results.exercises:
        for number, task in enumerate(exercise.tasks, start=1):
            own = grouped.get((exercise.id, task.n), [])
            lines = [
                f"✗ {t.name}: {t.message or t.status}"
                for t in own
                if t.status != "pass" and t.visibility == "visible"
            ]
            if counted := hidden_count(own):
                lines.append(f"✗ {counted}")
            if not own and exercise.message:
                lines.append(exercise.message)
            tests.append(
                {
                    "name": f"{exercise.id} task {task.n}: {task.title}",
                    "number": f"{exercise.id[2:].lstrip('0') or '0'}.{number}",
                    "score": task.earned,
                    "max_score": task.points,
                    "status": "passed" if task.passed else "failed",
                    "output": "\n".join(lines) or "All tests passed.",
                    "tags": [exercise.id],
                    "visibility": exercise.visibility,
                }
            )
    return {
        "score": results.score,  # the tests' max_score add up to the maximum
        "execution_time": results.execution_time,
        "output": _gradescope_summary(results),
        "visibility": "visible",
        "stdout_visibility": "hidden",  # the instructor's summary is printed there
        "tests": tests,
        "extra_data": {
            "schema": results.schema_,
            "max_score": results.max_score,
            "flags": [f.model_dump() for f in results.flags],
            "free_text": [a.model_dump() for a in results.free_text],
            "notes": results.notes,
        },
    }


def _gradescope_summary(results: Results) -> str:
    held = [e for e in results.exercises if e.visibility != "visible"]
    if results.status == "error":
        summary = f"Nothing could be graded: {results.message}"
    elif held:
        summary = "; ".join(f"{e.id}'s results are shown {WHEN[e.visibility]}" for e in held)
        summary += ", and your total score with them."
    else:
        summary = f"Score: {results.score} / {results.max_score}"
    if results.flagged:
        summary += "\nThis submission was flagged for review by your instructor."
    return summary


def exercism(results: Results) -> dict[str, Any]:
    """Exercism's test-runner interface, version 3 (tests mapped to task ids); a task's hidden
    tests are one entry that counts them."""
    if results.status == "error":
        return {"version": 3, "status": "error", "message": results.message, "tests": []}
    tests = []
    for (exercise, task), own in by_task(results).items():
        for test in own:
            if test.visibility == "hidden":
                continue
            status = {"pass": "pass", "fail": "fail"}.get(test.status, "error")
            entry: dict[str, Any] = {
                "name": f"{exercise} > {test.name}",
                "status": status,
                "test_code": test.nodeid,
                "task_id": task,
            }
            if status != "pass":
                entry["message"] = test.message or test.status
            tests.append(entry)
        if any(t.visibility == "hidden" for t in own):
            counted = hidden_count(own)
            entry = {
                "name": f"{exercise} > task {task}: hidden tests",
                "status": "fail" if counted else "pass",
                "test_code": "(hidden)",
                "task_id": task,
            }
            tests.append(entry | ({"message": counted} if counted else {}))
    overall = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 3, "status": overall, "tests": tests}


def junit(results: Results) -> str:
    """JUnit XML: one suite per exercise, one case per visible test and one per task's hidden
    tests, classname ``exNN.taskN``. Every text goes through :func:`readable` here as well:
    one character XML forbids, and no dashboard can read the file at all."""
    suites = ET.Element("testsuites", name=readable(f"{results.course}: {results.submission}"))
    kind = {"fail": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}
    grouped = by_task(results)
    for exercise in results.exercises:
        cases: list[tuple[str, str, str, float]] = []  # task, name, status, seconds
        messages: list[str] = []
        for task in exercise.tasks:
            own = grouped.get((exercise.id, task.n), [])
            for test in own:
                if test.visibility == "visible":
                    cases.append((f"task{task.n}", test.name, test.status, test.duration))
                    messages.append(test.message or test.status)
            if any(t.visibility == "hidden" for t in own):
                counted = hidden_count(own)
                seconds = sum(t.duration for t in own if t.visibility == "hidden")
                status = "fail" if counted else "pass"
                cases.append((f"task{task.n}", "hidden tests", status, seconds))
                messages.append(counted or "")
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=exercise.id,
            tests=str(len(cases)),
            failures=str(sum(c[2] == "fail" for c in cases)),
            errors=str(sum(c[2] in ("error", "timeout") for c in cases)),
            skipped=str(sum(c[2] == "skipped" for c in cases)),
            time=f"{sum(c[3] for c in cases):.3f}",
        )
        for (task_name, name, status, seconds), message in zip(cases, messages, strict=True):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{exercise.id}.{task_name}",
                name=readable(name),
                time=f"{seconds:.3f}",
            )
            if status in kind:
                ET.SubElement(case, kind[status], message=readable(message))
    if results.status == "error":
        suite = ET.SubElement(suites, "testsuite", name="submission", tests="1", errors="1")
        case = ET.SubElement(suite, "testcase", classname="submission", name="grading")
        ET.SubElement(case, "error", message=readable(results.message))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def markdown(results: Results, for_instructor: bool = False) -> str:
    """A summary for people: scores, what failed and why, flags and free-text answers. The
    instructor's adds every failed test, hidden ones named, with its message."""
    lines = [
        f"# {results.course}: {results.submission}",
        "",
        f"**Score: {results.score} / {results.max_score}**"
        f" (graded {results.graded_at} in {results.execution_time:.1f} s)",
        "",
    ]
    if results.status == "error":
        lines += [f"> Nothing could be graded: {results.message}", ""]
    if results.flagged:
        lines += ["## Flagged for review", ""]
        lines += [f"- {f.exercise or 'whole run'}: {f.reason}" for f in results.flags]
        lines.append("")
    lines += ["| Exercise | Task | Points | |", "| --- | --- | --- | --- |"]
    for exercise in results.exercises:
        for task in exercise.tasks:
            mark = "✓" if task.passed else "✗"
            title = f"{task.n}. {task.title}"
            lines.append(f"| {exercise.id} | {title} | {task.earned}/{task.points} | {mark} |")
    failures = [
        (exercise.id, task)
        for exercise in results.exercises
        for task in exercise.tasks
        if not task.passed and task.first_failure
    ]
    if failures:
        lines += ["", "## What to look at", ""]
        lines += [f"- {ex} task {task.n}: {task.first_failure}" for ex, task in failures]
    if for_instructor:
        lines += _failed_tests(results)
    for answer in results.free_text:
        lines += ["", f"## {answer.exercise}: {answer.variable} (read by the instructor)", ""]
        text = answer.text or "(no answer found)"
        lines += [f"> {line}" if line else ">" for line in text.splitlines()]
    if results.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results.notes]
    return "\n".join(lines) + "\n"


def _failed_tests(results: Results) -> list[str]:
    """Every test that did not pass, the hidden ones named with their inputs and messages."""
    lost = [t for t in results.tests if t.status not in ("pass", "skipped")]
    if not lost:
        return []
    lines = ["", "## Failed tests (hidden ones included: for the instructor only)", ""]
    for test in lost:
        hidden = " (hidden)" if test.visibility == "hidden" else ""
        text = test.message or test.status
        if test.raised and test.raised.message not in text:
            text += f" [{test.raised.type} at {test.raised.at}: {test.raised.message}]"
        lines.append(f"- {test.exercise} task {test.task}{hidden} `{test.name}`: {one_line(text)}")
    return lines


FORMATS: dict[str, tuple[str, Callable[[Results], str]]] = {
    "gradescope": (
        "results.json",
        lambda r: json.dumps(gradescope(r), indent=2, ensure_ascii=False),
    ),
    "exercism": ("exercism-results.json", lambda r: json.dumps(exercism(r), indent=2)),
    "junit": ("junit.xml", junit),
    "markdown": ("summary.md", markdown),
}


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write next to the target, then rename over it: a reader never sees half a file, and
    whatever was there before (a stray or forged file) is replaced whole."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(handle, 0o644)  # results are read by people and platforms, not only by us
    if isinstance(content, bytes):
        with os.fdopen(handle, "wb") as binary:
            binary.write(content)
    else:  # whatever text slipped through unescaped, the file is whole and valid UTF-8
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(content)
    os.replace(temporary, path)


def write_all(results: Results, outdir: Path, formats: list[str]) -> list[Path]:
    """The instructor's two files (canonical, summary) plus the chosen adapters; returns the
    paths written, the canonical file first."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = [outdir / CANONICAL, outdir / INSTRUCTOR_SUMMARY]
    write_atomic(written[0], results.to_json())
    write_atomic(written[1], markdown(results, for_instructor=True))
    for name in formats:
        file_name, render = FORMATS[name]
        written.append(outdir / file_name)
        write_atomic(written[-1], render(results) + "\n")
    return written
