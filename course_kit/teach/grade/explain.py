"""One line for the gradebook: the first thing a submission lost, read from the results' fields
(an exercise's ``state``, a test's ``cause`` and ``raised``), never from matched words.

``ex01 task 3: a verification link went to the old address`` · ``ex05: exercises/ex05_….py has
a syntax error on line 25: invalid syntax`` · ``ex03 task 2: raised ValueError at
exercises/ex03_….py:31: boom``. The gradebook is the instructor's: a hidden test is named.
"""

from course_kit.teach.grade.results import ExerciseEntry, Results, TaskEntry, TestEntry
from course_kit.text import one_line

LONGEST = 240  # a spreadsheet cell, not a report


def first_loss(found: Results) -> str:
    """Why the row is not full marks ("" when it is): the whole run's error, else the first
    task lost in course order; then every flag."""
    if found.status == "error":
        said = found.message
    else:
        said = next(
            (
                _task_loss(exercise, task, found)
                for exercise in found.exercises
                for task in exercise.tasks
                if not task.passed and task.points
            ),
            "",
        )
    flags = [f"flagged: {f.exercise or 'whole run'}: {f.reason}" for f in found.flags]
    text = one_line("; ".join(part for part in [said, *flags] if part))
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _task_loss(exercise: ExerciseEntry, task: TaskEntry, found: Results) -> str:
    if exercise.state != "graded":  # missing, untouched or broken: the exercise as a whole
        return f"{exercise.id}: {exercise.message or exercise.state}"
    own = [t for t in found.tests if t.exercise == exercise.id and t.task == task.n]
    lost = next((t for t in own if t.status not in ("pass", "skipped")), None)
    if lost is None:
        return f"{exercise.id} task {task.n}: no graded test ran"
    return f"{exercise.id} task {task.n}: {_why(lost)}"


def _why(test: TestEntry) -> str:
    name = f"hidden test {test.name}" if test.visibility == "hidden" else test.name
    if test.cause == "raised" and test.raised is not None:
        where = f" at {test.raised.at}" if test.raised.at else ""
        return f"{name} raised {test.raised.type}{where}: {test.raised.message}"
    if test.cause == "check" and test.visibility == "visible" and test.message:
        return test.message  # a check's message reads as the answer: "email_verified still 1"
    return f"{name}: {test.message or test.status}"
