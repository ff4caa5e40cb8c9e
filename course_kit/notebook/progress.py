"""The course as the notebooks show it: the exercises in order, their hints, and the check table
of one exercise's graded tests."""

import os

from course_kit.impl import ENV_VAR, Implementation, resolve
from course_kit.kit import KIT_ROOT
from course_kit.manifest import Exercise, load_course
from course_kit.markup import escape
from course_kit.notebook.display import Markdown, Table, table

NOTEBOOK_DEFAULT = "exercises"  # students see their own code unless STEPUP_IMPL says otherwise


def implementation(spec: str | None = None) -> Implementation:
    """The implementation the notebooks use: ``spec``, else ``STEPUP_IMPL``, else exercises."""
    return resolve(spec or os.environ.get(ENV_VAR) or NOTEBOOK_DEFAULT)


def course() -> Table:
    """The exercises in order, with the file to edit and the notebook that goes with it."""
    impl = implementation()
    rows = [
        [e.id, e.title, impl.shown(e), _if_there(e.notebook), len(e.tasks), e.points]
        for e in load_course().exercises
    ]
    return table(["id", "exercise", "you edit", "notebook", "tasks", "points"], rows, "The course")


def _if_there(notebook: str) -> str:
    return notebook if (KIT_ROOT / notebook).is_file() else "(none yet)"


def hints(exercise_id: str) -> Table:
    exercise = load_course().exercise(exercise_id)
    rows = [[t.n, t.title, Markdown("\n".join(t.hints))] for t in exercise.tasks]
    return table(["task", "what", "hints"], rows, f"Hints for {exercise.id}: {exercise.title}")


def check(exercise_id: str, impl: str | None = None) -> Table:
    """Run one exercise's graded tests (in a child process) and show task by task what passes.
    Never raises: an untouched stub is simply every task still to do."""
    exercise = load_course().exercise(exercise_id)
    try:
        from course_kit.grading.engine import check as run_check  # spawns pytest: check cells only
        from course_kit.student.report import (
            advice,
            broken,
            not_started,
            pristine,
            unfinished_free_text,
            unfinished_warning,
        )

        chosen = implementation(impl)
        score, _ = run_check(chosen.folder, [exercise.id], load_course())
    except Exception as exc:  # the check cell must never crash the notebook
        rows = [[t.n, t.title, "✗", f"0/{t.points}", "not checked", ""] for t in exercise.tasks]
        trouble = [f"the check could not run: {type(exc).__name__}: {exc}"]
        return _check_table(exercise, rows, trouble, exercise.file, impl or "?")
    rows = []
    why = broken(score.tasks)  # a file that cannot be used: said once, in the first row
    untouched = pristine(exercise, chosen)
    for task_score in score.tasks:
        task, failure = task_score.task, task_score.first_failure
        message = _readable(failure.message or failure.status) if failure else ""
        if not_started(task_score, untouched):  # as stepup check says it
            message = "not started yet"
        if why is not None:
            message = why if not rows else "not checked until the file can be used"
        hint = advice(task_score)
        status = "✓" if task_score.passed else "✗"
        points = f"{task_score.earned}/{task.points}"
        if task_score.deferred:  # only the hidden tests judge it: answered, not yet right
            points = f"—/{task.points}"
            message = message or "answered; whether it is right counts when graded"
        rows.append([task.n, task.title, status, points, message, Markdown(hint) if hint else ""])
    trouble = score.problems + [
        unfinished_warning(load_course(), chosen, exercise_id, name)
        for exercise_id, name in unfinished_free_text(load_course(), chosen, [exercise.id])
    ]
    return _check_table(exercise, rows, trouble, chosen.shown(exercise), chosen.spec)


def _check_table(
    exercise: Exercise, rows: list[list[object]], trouble: list[str], where: str, label: str
) -> Table:
    passed = sum(row[2] == "✓" for row in rows)
    total = len(exercise.tasks)
    deferred = any(str(row[3]).startswith("—") for row in rows)
    if passed == total and not trouble and deferred:
        footer = "Every statement is answered; whether each is right counts when you are graded."
    elif passed == total and not trouble:
        footer = "Every task passes. Well done!"
    else:
        todo = next((row[0] for row in rows if row[2] != "✓"), None)
        step = f"Next: {escape(where)}, task {todo}. " if todo is not None else ""
        footer = f"{step}All hints: `stepup hint {exercise.id}` in the lab's Terminal."
        footer += "".join(f"\n! {escape(p)}" for p in trouble)  # as written, not as Markdown
    return Table(
        ["task", "what", "status", "points", "message", "hint"],
        rows,
        f"{exercise.id} — {exercise.title}: {passed}/{total} tasks pass ({label})",
        Markdown(footer),
        {
            "class": "stepup-check",
            "data-exercise": exercise.id,
            "data-passed": str(passed),
            "data-tasks": str(total),
        },
    )


def _readable(message: str) -> str:
    return message.removeprefix("AssertionError: ")
