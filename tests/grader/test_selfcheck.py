"""`stepup check`: the student's view, through the same engine as the grader; it always ends
with the next step."""

import subprocess
import sys
from pathlib import Path

from grader_helpers import FAST, exercise, submission

from course_app.grading.engine import check
from course_app.grading.grade import grade
from course_app.manifest import KIT_ROOT


def stepup_check(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "course_app.cli", "check", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_check_on_a_stub_names_the_next_step() -> None:
    out = stepup_check("ex04")
    assert "✗ task 1" in out and "hint:" in out
    assert (
        out.rstrip().splitlines()[-1] == "Next: exercises/ex04_why_reset_email_verified.py task 1"
    )


def test_check_on_finished_work_says_done() -> None:
    out = stepup_check("ex03", "--impl", "solutions")
    assert "Progress: 3/3 tasks, 5/5 points" in out
    assert out.rstrip().splitlines()[-1] == (
        "Next: solutions/ex04_why_reset_email_verified.py (ex03 done: every task passes)"
    )


def test_passes_at_home_means_passes_when_graded(tmp_path: Path) -> None:
    folder = submission(tmp_path / "work", only=["ex04"])
    stub = (KIT_ROOT / "exercises" / "ex03_five_minute_window.py").read_bytes()
    (folder / "exercises" / "ex03_five_minute_window.py").write_bytes(stub)
    at_home, _ = check(folder / "exercises", ["ex03", "ex04"])
    graded = grade(folder, limits=FAST)
    for exercise_id in ("ex03", "ex04"):
        home = at_home.exercise_points(exercise_id)
        assert home == exercise(graded, exercise_id)["score"], exercise_id
    assert at_home.earned == graded["score"] == 2
