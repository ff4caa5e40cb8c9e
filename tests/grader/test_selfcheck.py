"""`stepup check`: the student's view, through the same engine as the grader; it always ends
with the next step."""

import shutil
import subprocess
import sys
from pathlib import Path

from grader_helpers import COURSE, FAST, as_json, exercise, submission

from course_kit.grading.engine import check
from course_kit.kit import KIT_ROOT
from course_kit.markup import to_plain
from course_kit.teach.grade.grade import grade


def stepup_check(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "course_kit.cli", "check", *args],
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
        "Next: solutions/ex04_why_reset_email_verified.py (ex03 done: every check at home passes)"
    )


def test_passes_at_home_means_passes_when_graded(tmp_path: Path) -> None:
    """Every point claimed at home is earned when graded; exercise 4 claims none at home (its
    answers are judged by hidden tests), and a wrong answer there is not called right."""
    folder = submission(tmp_path / "work", only=["ex01"])
    stub = (KIT_ROOT / "exercises" / "ex04_why_reset_email_verified.py").read_text()
    wrong = stub.replace(": None,", ": True,")  # every statement answered, four wrongly
    (folder / "exercises" / "ex04_why_reset_email_verified.py").write_text(wrong)
    at_home, _ = check(folder / "exercises", ["ex01", "ex04"])
    graded = as_json(grade(folder, limits=FAST))
    assert at_home.exercise_points("ex01") == exercise(graded, "ex01")["score"] == 5
    assert at_home.exercise_points("ex04") == exercise(graded, "ex04")["score"] == 0
    assert at_home.task("ex04", 1).passed and at_home.task("ex04", 1).deferred


def test_the_hint_fits_the_check_that_failed(tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    folder.mkdir()
    solution = (KIT_ROOT / "solutions" / "ex01_email_change.py").read_text()
    # The link goes to the old address: task 3's hint must be about where the link goes.
    wrong = solution.replace(
        "send_verification(db, user.id, new_email,", "send_verification(db, user.id, user.email,"
    )
    (folder / "ex01_email_change.py").write_text(wrong)
    out = stepup_check("ex01", "--impl", str(folder))
    task3 = out[out.index("✗ task 3") :]
    assert (
        "hint: "
        + COURSE.exercise("ex01")
        .task(3)
        .hint("test_a_link_goes_to_the_new_address_and_verifies_it")
        in task3
    )


def test_every_task_of_an_untouched_stub_is_not_started(tmp_path: Path) -> None:
    """A task that only adds a line (ex01's guard, ex06's policy row) has no stub of its own to
    raise: while the file is the pinned stub it is "not started yet" too, not what the stub's
    route answered. One edited byte and the checks speak again."""
    for exercise_id in ("ex01", "ex06"):
        out = stepup_check(exercise_id)
        task1 = out[out.index("✗ task 1") : out.index("✗ task 2")]
        assert "not started yet" in task1, out
    folder = tmp_path / "exercises"
    shutil.copytree(KIT_ROOT / "exercises", folder)
    edited = folder / "ex06_assurance_levels.py"
    edited.write_text(edited.read_text() + "\n")
    out = stepup_check("ex06", "--impl", str(folder))
    task1 = out[out.index("✗ task 1") : out.index("✗ task 2")]
    assert "not started yet" not in task1 and "DELETE /me" in task1, out


def test_a_policy_row_that_weakens_an_action_is_refused_with_its_file(tmp_path: Path) -> None:
    """Exercise 6's POLICY may make actions stricter, never weaker: a row that lets a phished
    password enrol a passkey stops the exercise, named, instead of passing its tests."""
    folder = tmp_path / "exercises"
    shutil.copytree(KIT_ROOT / "solutions", folder)
    ex06 = folder / "ex06_assurance_levels.py"
    row = '    "delete_account": Requirement(Level.SECOND_FACTOR),  # SOLUTION\n'
    ex06.write_text(ex06.read_text().replace(row, row + '    "add_passkey": Requirement(),\n'))
    out = stepup_check("ex06", "--impl", str(folder))
    assert "(0/5 points)" in out, out
    said = "ex06_assurance_levels.py: POLICY: the row for 'add_passkey' asks any_factor"
    assert said in out, out


def test_untouched_tasks_get_their_own_hints_in_plain_text() -> None:
    """A stub's NotImplementedError is a task not started yet: it gets the task's hint, not the
    advice for an exception; and the terminal shows the hint's words, not its Markdown."""
    out = stepup_check("ex03")
    for task in COURSE.exercise("ex03").tasks:
        block = out[out.index(f"✗ task {task.n}") :].splitlines()
        hint = next(line.strip() for line in block if line.strip().startswith("hint: "))
        hints = {to_plain(h) for h in (*task.hints, *task.hint_for.values())}
        assert hint.removeprefix("hint: ") in hints, hint
    assert "`" not in out
