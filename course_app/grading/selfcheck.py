"""``stepup check``: the student's view of the graded tests, ending with the next step."""

from collections.abc import Sequence

from rich.console import Console

from course_app.grading.engine import Score
from course_app.impl import Implementation
from course_app.manifest import Course


def next_step(score: Score, course: Course, impl: Implementation) -> str:
    """Always a "Next:" line: the first failing task, else the exercise after those checked."""
    for task_score in score.tasks:
        if not task_score.passed:
            exercise = course.exercise(task_score.task.exercise)
            return f"Next: {impl.shown(exercise)} task {task_score.task.n}"
    order = [e.id for e in course.exercises]
    checked = {t.task.exercise for t in score.tasks}
    last = max((order.index(e) for e in checked), default=-1)
    following = [e for e in course.exercises[last + 1 :] if e.id not in checked]
    done = ", ".join(sorted(checked))
    if following:
        return f"Next: {impl.shown(following[0])} ({done} done: every task passes)"
    if len(checked) < len(course.exercises):
        return f"Next: stepup check, to see every exercise ({done} done: every task passes)"
    return "Next: nothing left. You're done: every task of every exercise passes."


def print_report(
    score: Score,
    course: Course,
    impl: Implementation,
    console: Console | None = None,
    exercise_ids: Sequence[str] | None = None,
) -> None:
    console = console or Console(highlight=False)
    for exercise in course.exercises:
        if exercise_ids and exercise.id not in exercise_ids:
            continue
        tasks = [t for t in score.tasks if t.task.exercise == exercise.id]
        earned = sum(t.earned for t in tasks)
        console.print(
            f"\n[bold]{exercise.id} — {exercise.title}[/]  ({earned}/{exercise.points} points)"
        )
        for task_score in tasks:
            task = task_score.task
            if task_score.passed:
                console.print(f"  [green]✓[/] task {task.n}: {task.title}")
                continue
            console.print(f"  [red]✗[/] task {task.n}: {task.title}")
            failure = task_score.first_failure
            if failure is not None:
                console.print(f"      {failure.message or failure.status}", markup=False)
            if task.hints:
                console.print(f"      [dim]hint: {task.hints[0]}[/]")
    for problem in score.problems:
        console.print(f"! {problem}", style="yellow", markup=False)
    for flag in score.flags:
        console.print(f"! flagged: {flag.reason}", style="yellow", markup=False)
    done = sum(1 for t in score.tasks if t.passed)
    console.print(
        f"\nProgress: {done}/{len(score.tasks)} tasks, {score.earned}/{score.possible} points"
    )
    console.print(next_step(score, course, impl), soft_wrap=True, markup=False)
