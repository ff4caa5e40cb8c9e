"""Other shapes of the canonical results: Gradescope's ``results.json``, an Exercism v3
``results.json``, JUnit XML for CI dashboards and a Markdown summary for people.

Each adapter is a pure function of the canonical dict, so every format tells the same story.
"""

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_kit.manifest import Course, load_course
from course_kit.teach.grade.results import Results, TestEntry


def gradescope(results: Results, hidden_visibility: str = "after_published") -> dict[str, Any]:
    """Gradescope's autograder format: one entry per task (the unit that earns points), and
    one zero-point entry per hidden test, shown only when the instructor allows."""
    tests: list[dict[str, Any]] = []
    by_task: dict[tuple[str, int], list[TestEntry]] = {}
    for test in results.tests:
        by_task.setdefault((test.exercise, test.task), []).append(test)
    for exercise in results.exercises:
        for number, task in enumerate(exercise.tasks, start=1):
            own = by_task.get((exercise.id, task.n), [])
            lines = [
                f"✗ {t.name}: {t.message or t.status}"
                for t in own
                if t.status != "pass" and t.visibility == "visible"
            ]
            hidden_failures = sum(1 for t in own if t.status != "pass" and t.visibility == "hidden")
            if hidden_failures:
                lines.append(f"✗ {hidden_failures} hidden test(s) failed")
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
                    "visibility": "visible",
                }
            )
            for t in own:
                if t.visibility == "hidden":
                    tests.append(
                        {
                            "name": f"{exercise.id} task {task.n} (hidden): {t.name}",
                            "score": 0,
                            "max_score": 0,
                            "status": "passed" if t.status == "pass" else "failed",
                            "output": t.message or t.status,
                            "tags": [exercise.id, "hidden"],
                            "visibility": hidden_visibility,
                        }
                    )
    summary = f"Score: {results.score} / {results.max_score}"
    if results.status == "error":
        summary = f"Nothing could be graded: {results.message}"
    if results.flagged:
        summary += "\nThis submission was flagged for review by your instructor."
    return {
        "score": results.score,  # the tests' max_score add up to the maximum
        "execution_time": results.execution_time,
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "schema": results.schema_,
            "max_score": results.max_score,
            "flags": [f.model_dump() for f in results.flags],
            "free_text": [a.model_dump() for a in results.free_text],
            "notes": results.notes,
        },
    }


def exercism(results: Results) -> dict[str, Any]:
    """Exercism's test-runner interface, version 3 (tests mapped to task ids)."""
    if results.status == "error":
        return {"version": 3, "status": "error", "message": results.message, "tests": []}
    tests = []
    for test in results.tests:
        status = {"pass": "pass", "fail": "fail"}.get(test.status, "error")
        entry: dict[str, Any] = {
            "name": f"{test.exercise} > {test.name}",
            "status": status,
            "test_code": test.nodeid,
            "task_id": test.task,
        }
        if status != "pass":
            entry["message"] = test.message or test.status
        tests.append(entry)
    overall = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 3, "status": overall, "tests": tests}


def junit(results: Results) -> str:
    """JUnit XML: one suite per exercise, one case per test, classname ``exNN.taskN``."""
    suites = ET.Element("testsuites", name=f"{results.course}: {results.submission}")
    for exercise in results.exercises:
        own = [t for t in results.tests if t.exercise == exercise.id]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=exercise.id,
            tests=str(len(own)),
            failures=str(sum(t.status == "fail" for t in own)),
            errors=str(sum(t.status in ("error", "timeout") for t in own)),
            skipped=str(sum(t.status == "skipped" for t in own)),
            time=f"{sum(t.duration for t in own):.3f}",
        )
        for test in own:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{test.exercise}.task{test.task}",
                name=test.name,
                time=f"{test.duration:.3f}",
            )
            kind = {"fail": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}
            if test.status in kind:
                ET.SubElement(case, kind[test.status], message=test.message or test.status)
    if results.status == "error":
        suite = ET.SubElement(suites, "testsuite", name="submission", tests="1", errors="1")
        case = ET.SubElement(suite, "testcase", classname="submission", name="grading")
        ET.SubElement(case, "error", message=results.message)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def markdown(results: Results) -> str:
    """A summary for people: scores, what failed and why, flags and free-text answers."""
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
    for answer in results.free_text:
        lines += ["", f"## {answer.exercise}: {answer.variable} (read by the instructor)", ""]
        text = answer.text or "(no answer found)"
        lines += [f"> {line}" if line else ">" for line in text.splitlines()]
    if results.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results.notes]
    return "\n".join(lines) + "\n"


FORMATS: dict[str, tuple[str, Callable[[Results, str], str]]] = {
    "gradescope": (
        "results.json",
        lambda r, vis: json.dumps(gradescope(r, vis), indent=2, ensure_ascii=False),
    ),
    "exercism": ("exercism-results.json", lambda r, _: json.dumps(exercism(r), indent=2)),
    "junit": ("junit.xml", lambda r, _: junit(r)),
    "markdown": ("summary.md", lambda r, _: markdown(r)),
}
CANONICAL = "stepup-results.json"


def write_atomic(path: Path, text: str) -> None:
    """Write next to the target, then rename over it: a reader never sees half a file, and
    whatever was there before (a stray or forged file) is replaced whole."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(handle, 0o644)  # results are read by people and platforms, not only by us
    # Whatever text slipped through unescaped, the file is written whole and valid UTF-8.
    with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(text)
    os.replace(temporary, path)


def write_all(
    results: Results, outdir: Path, formats: list[str], course: Course | None = None
) -> list[Path]:
    """The canonical file plus the chosen adapters; returns the paths written."""
    visibility = (course or load_course()).grading.hidden_visibility
    outdir.mkdir(parents=True, exist_ok=True)
    written = [outdir / CANONICAL]
    write_atomic(written[0], results.to_json())
    for name in formats:
        file_name, render = FORMATS[name]
        written.append(outdir / file_name)
        write_atomic(written[-1], render(results, visibility) + "\n")
    return written
