"""What the results files may hold. Every writer escapes what no reader should get raw (control
characters, lone surrogates, the non-characters XML forbids), so JUnit XML is well-formed
whatever a student's exception said. The hidden tests' names, inputs and messages reach the
instructor's files (the canonical results, ``instructor-summary.md``) and never a file a
student may see; an exercise held back on Gradescope (course.toml ``visibility``) gives
nothing away before its time, its total included."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from grader_helpers import (
    COURSE,
    EXERCISM_SCHEMA,
    FAST,
    as_json,
    mutated,
    submission,
    validate_outputs,
)
from jsonschema import validate

from course_kit.grading import outcome
from course_kit.grading.sandbox.protocol import Raised
from course_kit.teach.grade import results
from course_kit.teach.grade.adapters import write_all
from course_kit.teach.grade.grade import grade
from course_kit.teach.publish.gradescope_format import GradescopeResults
from course_kit.text import UNSAFE

ALL_FORMATS = ["gradescope", "exercism", "junit", "markdown"]
STUDENT_FILES = ["results.json", "exercism-results.json", "junit.xml", "summary.md"]
# Every C0 and C1 control, an escape sequence that clears a terminal, lone surrogates, the
# non-characters XML 1.0 forbids, and honest non-ASCII text that must stay as it is.
NASTY = "".join(map(chr, range(32))) + "\x1b[2J\x7f\x85\x9b\ud800\udfff\ufffe\uffff é€"


def nasty_results() -> results.Results:
    name = f"test_statement[{NASTY}]"
    tests = [
        outcome.TestResult(
            nodeid=f"tests/graded/test_ex03_five_minute_window.py::{name}",
            name=name,
            exercise="ex03",
            task=task,
            status=status,
            message=NASTY,
            visibility=visibility,
            cause="raised",
            raised=Raised("ValueError", ("ValueError",), "exercises/ex03.py:3", NASTY),
        )
        for task, status, visibility in [(1, "fail", "visible"), (2, "timeout", "hidden")]
    ]
    return results.build(
        course=COURSE,
        submission=f"caf\udce9 {NASTY}",
        score=outcome.score(tests, COURSE),
        results=tests,
        submitted={"ex03"},
        exercise_messages={"ex03": NASTY},
        flags=[outcome.Flag("ex03", NASTY)],
        free_text=[results.FreeText(exercise="ex04", variable="EXPLANATION", text=NASTY)],
        notes=[NASTY],
        execution_time=1.0,
    )


def test_every_writer_escapes_what_no_reader_should_get_raw(tmp_path: Path) -> None:
    written = write_all(nasty_results(), tmp_path, ALL_FORMATS)
    assert sorted(p.name for p in written) == sorted(
        ["stepup-results.json", "instructor-summary.md", *STUDENT_FILES]
    )
    for path in written:
        text = path.read_bytes().decode("utf-8")  # strict: every file is valid UTF-8
        assert UNSAFE.search(text) is None, f"{path.name} holds a raw control character"
        if path.suffix == ".json":  # what a JSON reader gets
            text = json.dumps(json.loads(text), ensure_ascii=False)
        assert "\\x1b[2J" in text and "é€" in text, path.name  # escaped, not dropped
    ET.parse(tmp_path / "junit.xml")  # expat: XML 1.0, strictly
    for name in ("stepup-results.json", "results.json", "exercism-results.json"):
        json.loads((tmp_path / name).read_text(encoding="utf-8"))
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    failure = junit.find(".//testcase/failure")
    assert failure is not None and failure.get("message", "").startswith("\\x00\\x01")


@pytest.fixture(scope="module")
def hidden_failures(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The reference answers but one of exercise 4's statements answered wrongly (a hidden
    test fails, the visible one passes) and exercise 5's rule counting characters (two of its
    four hidden tests fail)."""
    root = tmp_path_factory.mktemp("hidden")
    folder = submission(root / "submission")
    mutated(folder, "ex04: one statement answered wrongly")
    mutated(folder, "ex05: the rule counts characters instead of UTF-8 bytes")
    found = grade(folder, limits=FAST)
    write_all(found, root / "out", ALL_FORMATS)
    return as_json(found), root / "out"


def failed_hidden(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in found["tests"] if t["visibility"] == "hidden" and t["status"] != "pass"]


def test_failed_hidden_tests_are_named_for_the_instructor_only(
    hidden_failures: tuple[dict[str, Any], Path],
) -> None:
    found, out = hidden_failures
    validate_outputs(out)
    failed = failed_hidden(found)
    assert {t["exercise"] for t in failed} == {"ex04", "ex05"}, failed
    assert any("signs_out" in t["name"] for t in failed)
    instructor = (out / "instructor-summary.md").read_text(encoding="utf-8")
    secrets = []
    for test in failed:
        assert f"`{test['name']}`: {test['message']}" in instructor
        inputs = re.search(r"\[(.+)\]$", test["name"])
        secrets += [test["name"], test["message"], test["nodeid"]]
        secrets += [f"[{inputs.group(1)}]"] if inputs else []
    for name in STUDENT_FILES:
        text = (out / name).read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text]
        assert leaked == [], f"{name} shows what only the instructor may see: {leaked}"


def test_students_learn_how_many_hidden_tests_failed(
    hidden_failures: tuple[dict[str, Any], Path],
) -> None:
    found, out = hidden_failures
    gradescope = json.loads((out / "results.json").read_text())
    GradescopeResults.model_validate(gradescope)
    entry = next(t for t in gradescope["tests"] if t["name"].startswith("ex05 task 2"))
    assert entry["status"] == "failed" and "✗ 2 of 4 hidden tests failed" in entry["output"]
    exercism = json.loads((out / "exercism-results.json").read_text())
    validate(exercism, EXERCISM_SCHEMA)
    hidden = next(t for t in exercism["tests"] if t["name"] == "ex05 > task 2: hidden tests")
    assert hidden["status"] == "fail" and hidden["message"] == "2 of 4 hidden tests failed"
    junit = ET.parse(out / "junit.xml").getroot()
    case = junit.find(".//testcase[@classname='ex05.task2'][@name='hidden tests']/failure")
    assert case is not None and case.get("message") == "2 of 4 hidden tests failed"
    assert found["score"] == COURSE.points - 2 - 1  # ex04 task 1, ex05 task 2


def test_a_held_back_exercise_shows_after_the_due_date_and_so_does_the_total(
    hidden_failures: tuple[dict[str, Any], Path],
) -> None:
    """Exercise 4 is held back by course.toml: its entry carries its points but shows after
    the due date, and the visible summary does not state the total (which would tell)."""
    _, out = hidden_failures
    assert COURSE.exercise("ex04").visibility == "after_due_date"
    gradescope = json.loads((out / "results.json").read_text())
    ex04 = [t for t in gradescope["tests"] if "ex04" in t["tags"]]
    assert ex04 and all(t["visibility"] == "after_due_date" for t in ex04)
    assert sum(t["max_score"] for t in ex04) == COURSE.exercise("ex04").points
    others = [t for t in gradescope["tests"] if "ex04" not in t["tags"]]
    assert all(t["visibility"] == "visible" for t in others)
    assert str(gradescope["score"]) not in gradescope["output"]
    assert gradescope["output"].startswith("ex04's results are shown after the due date")


def test_the_solutions_leave_no_hidden_test_in_any_file_students_see(tmp_path: Path) -> None:
    """Passing hidden tests are not listed either (their names carry their inputs)."""
    found = grade(submission(tmp_path / "submission", only=["ex05"]), limits=FAST)
    write_all(found, tmp_path / "out", ALL_FORMATS)
    hidden = [t for t in as_json(found)["tests"] if t["visibility"] == "hidden"]
    assert {t["status"] for t in hidden if t["exercise"] == "ex05"} == {"pass"}
    for name in STUDENT_FILES:
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert not [t["name"] for t in hidden if t["name"] in text], name
