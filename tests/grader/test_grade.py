"""`stepup grade` on real submissions: the untouched stubs earn 0, the reference answers copied
as a submission earn full marks, every results format validates, and whatever the submission
looks like (a zip, a kit copy, loose files, nothing) the answer is a results file."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grader_helpers import COURSE, FAST, as_json, exercise, statuses, submission, validate_outputs

from course_kit.kit import KIT_ROOT
from course_kit.teach.grade.adapters import write_all
from course_kit.teach.grade.grade import grade

STEPUP = [sys.executable, "-m", "course_kit.cli", "teach"]


def stepup(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*STEPUP, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The reference answers graded once through the command line, all formats."""
    root = tmp_path_factory.mktemp("reference")
    run = stepup("grade", str(submission(root / "submission")), "-o", str(root / "out"))
    assert run.returncode == 0, run.stderr
    return validate_outputs(root / "out"), root / "out"


def test_solutions_copied_as_a_submission_earn_full_marks(reference: tuple[dict, Path]) -> None:
    found, _ = reference
    lost = [(t["nodeid"], t["message"]) for t in found["tests"] if t["status"] != "pass"]
    assert found["score"] == found["max_score"] == COURSE.points, lost
    assert found["status"] == "ok" and not found["flagged"]


def test_grading_runs_the_hidden_tests(reference: tuple[dict, Path]) -> None:
    found, _ = reference
    hidden = [t for t in found["tests"] if t["visibility"] == "hidden"]
    assert hidden and all(t["nodeid"].startswith("tests/graded/hidden/") for t in hidden)


def test_gradescope_results_add_up(reference: tuple[dict, Path]) -> None:
    _, out = reference
    gradescope = json.loads((out / "results.json").read_text())
    assert gradescope["score"] == COURSE.points
    assert sum(t.get("max_score", 0) for t in gradescope["tests"]) == COURSE.points
    assert sum(t.get("score", 0) for t in gradescope["tests"]) == COURSE.points
    assert len(gradescope["tests"]) == len(COURSE.tasks)  # one entry per task, no more


def test_free_text_is_recorded_for_the_instructor(reference: tuple[dict, Path]) -> None:
    found, out = reference
    (answer,) = found["free_text"]
    assert answer["exercise"] == "ex04" and answer["variable"] == "EXPLANATION"
    assert answer["text"].startswith("Verification proves one thing")
    assert "Verification proves one thing" in (out / "summary.md").read_text()


def test_untouched_exercises_earn_nothing(tmp_path: Path) -> None:
    run = stepup("grade", str(KIT_ROOT / "exercises"), "-o", str(tmp_path), "--format", "junit")
    assert run.returncode == 0, run.stderr
    found = json.loads((tmp_path / "stepup-results.json").read_text())
    assert found["score"] == 0 and found["status"] == "ok"
    assert all(not e["score"] for e in found["exercises"])
    assert (tmp_path / "junit.xml").is_file() and not (tmp_path / "results.json").exists()


def test_a_zipped_kit_copy_is_graded_like_a_folder(tmp_path: Path) -> None:
    archive = tmp_path / "kit.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in (KIT_ROOT / "solutions").glob("ex04_*.py"):
            zf.write(file, f"stepup-lab-main/exercises/{file.name}")
            zf.write(KIT_ROOT / "exercises" / file.name, f"stepup-lab-main/old/{file.name}")
            zf.write(file, f"stepup-lab-main/solutions/{file.name}")  # never taken from there
        zf.writestr("../escape/ex01_email_change.py", "raise SystemExit")  # never extracted
    found = as_json(grade(archive, limits=FAST))
    assert exercise(found, "ex04")["score"] == 2, found["exercises"]
    assert found["score"] == 2
    assert not exercise(found, "ex01")["submitted"]
    assert any("ex04_why_reset_email_verified.py: graded" in note for note in found["notes"])


def test_loose_files_with_one_broken_still_grade_the_rest(tmp_path: Path) -> None:
    shutil.copy(KIT_ROOT / "solutions" / "ex04_why_reset_email_verified.py", tmp_path)
    (tmp_path / "ex03_five_minute_window.py").write_text("def broken(:\n")
    found = as_json(grade(tmp_path, limits=FAST))
    assert found["status"] == "ok" and found["score"] == 2
    ex03 = exercise(found, "ex03")
    assert ex03["message"].startswith("exercises/ex03_five_minute_window.py has a syntax error")
    assert statuses(found, "ex03") == {"error"}
    assert statuses(found, "ex01") == {"fail"}  # not submitted: not run, never passed


def test_free_text_is_read_without_running_the_file(tmp_path: Path) -> None:
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex04_why_reset_email_verified.py").write_text(
        'EXPLANATION = """Because the new inbox is unproven."""\n'
        'raise RuntimeError("importing this file fails")\n'
    )
    found = as_json(grade(tmp_path, limits=FAST))
    assert found["free_text"][0]["text"] == "Because the new inbox is unproven."
    assert "importing this file fails" in exercise(found, "ex04")["message"]
    assert found["score"] == 0


@pytest.mark.parametrize("kind", ["empty zip", "not a zip", "empty folder"])
def test_nothing_to_grade_is_an_error_result_not_a_traceback(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "submission.zip"
    if kind == "empty zip":
        zipfile.ZipFile(target, "w").close()
    elif kind == "not a zip":
        target.write_text("these are my answers")
    else:
        target = tmp_path / "empty"
        target.mkdir()
    run = stepup("grade", str(target), "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    found = validate_outputs(tmp_path / "out")
    assert found["status"] == "error" and found["score"] == 0 and found["message"]
    exercism = json.loads((tmp_path / "out" / "exercism-results.json").read_text())
    assert exercism["status"] == "error" and exercism["message"] == found["message"]


def test_grader_misuse_exits_non_zero(tmp_path: Path) -> None:
    assert stepup("grade", str(tmp_path / "missing"), "-o", str(tmp_path)).returncode == 2
    assert stepup("grade", str(tmp_path), "--format", "pdf").returncode == 2
    assert stepup("grade", "-o", str(tmp_path)).returncode == 2


def test_results_replace_whatever_was_in_the_folder(tmp_path: Path) -> None:
    found = grade(tmp_path / "nothing-here", limits=FAST)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.json").write_text('{"score": 22}')
    write_all(found, tmp_path / "out", ["gradescope"])
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "instructor-summary.md",
        "results.json",
        "stepup-results.json",
    ]
