"""``stepup check``: the student's view of the graded tests, ending with the next step."""

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from course_kit.grading.outcome import Score, TaskScore
from course_kit.impl import Implementation
from course_kit.manifest import Course, Exercise
from course_kit.markup import to_plain
from course_kit.source import free_text
from course_kit.text import plural


def stub_raised(task_score: TaskScore) -> str | None:
    """The message of a stub's ``NotImplementedError`` the first failure ran into, if any."""
    failure = task_score.first_failure
    raised = failure.raised if failure is not None else None
    if raised is not None and "NotImplementedError" in raised.classes:
        return raised.message
    return None


def not_started(task_score: TaskScore, untouched: bool = False) -> bool:
    """The task's own code is still the stub's ``raise NotImplementedError("task N: …")``, or
    the whole file is still the starting stub (``untouched``): a task that only adds a line
    (ex01's guard, ex06's policy row) has no stub of its own to raise."""
    if task_score.passed:
        return False
    return untouched or (stub_raised(task_score) or "").startswith(f"task {task_score.task.n}:")


def pristine(exercise: Exercise, impl: Implementation) -> bool:
    """``impl``'s file for ``exercise`` is byte for byte the stub pinned in course.toml."""
    try:
        content = impl.path_of(exercise).read_bytes()
    except OSError:
        return False
    return exercise.is_stub(content)


def advice(task_score: TaskScore) -> str | None:
    """The hint for what failed, in Markdown: the task's hint (tied to the check that failed,
    if any) when it is not started or ran into a later task's stub, fixing a crash first when
    the student's code raised, else the hint tied to the check. A file that cannot be used at
    all gets no task hint: its one message says what to fix."""
    failure = task_score.first_failure
    if task_score.passed or failure is None or failure.cause == "broken":
        return None
    if failure.cause == "raised" and stub_raised(task_score) is None:
        return "an exception in your code stops this check: fix the line the message names first"
    return task_score.task.hint(failure.name)


def broken(tasks: Sequence[TaskScore]) -> str | None:
    """Why an exercise's file could not be used at all (a syntax error, an import that fails
    or hangs), when that is why its tasks failed: said once for the whole exercise."""
    failures = [t.first_failure for t in tasks if t.first_failure is not None]
    if failures and all(f.cause == "broken" for f in failures):
        return failures[0].message
    return None


def next_step(
    score: Score,
    course: Course,
    impl: Implementation,
    unfinished: Sequence[tuple[str, str]] = (),
) -> str:
    """Always a "Next:" line: the first failing task, a free-text answer still to write, else
    the exercise after those checked."""
    for task_score in score.tasks:
        if not task_score.passed:
            exercise = course.exercise(task_score.task.exercise)
            return f"Next: {impl.shown(exercise)} task {task_score.task.n}"
    for exercise_id, variable in unfinished:
        return f"Next: {impl.shown(course.exercise(exercise_id))}: write {variable}"
    order = [e.id for e in course.exercises]
    checked = {t.task.exercise for t in score.tasks}
    last = max((order.index(e) for e in checked), default=-1)
    following = [e for e in course.exercises[last + 1 :] if e.id not in checked]
    done = ", ".join(sorted(checked))
    if following:
        return f"Next: {impl.shown(following[0])} ({done} done: every check at home passes)"
    if len(checked) < len(course.exercises):
        return (
            f"Next: stepup check, to see every exercise ({done} done: every check at home passes)"
        )
    return "Next: nothing left. You're done: every check of every exercise passes at home."


def unfinished_free_text(
    course: Course, impl: Implementation, exercise_ids: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(exercise, variable) of free-text answers (exercise 4's EXPLANATION) still to write."""
    found = []
    for exercise_id, variable in course.grading.free_text.items():
        if exercise_ids and exercise_id not in exercise_ids:
            continue
        path = impl.path_of(course.exercise(exercise_id))
        text = free_text(path.read_bytes(), variable) if path.is_file() else None
        if text is None or "TODO" in text:
            found.append((exercise_id, variable))
    return found


def unfinished_warning(course: Course, impl: Implementation, exercise_id: str, name: str) -> str:
    return (
        f"{impl.shown(course.exercise(exercise_id))}: {name} is still to be written (your"
        " instructor reads it; it is not scored automatically)"
    )


def print_report(
    score: Score,
    course: Course,
    impl: Implementation,
    console: Console | None = None,
    exercise_ids: Sequence[str] | None = None,
) -> None:
    console = console or Console(highlight=False)

    def say(text: str, **style: Any) -> None:
        console.print(text, soft_wrap=True, **style)

    for exercise in course.exercises:
        if exercise_ids and exercise.id not in exercise_ids:
            continue
        tasks = [t for t in score.tasks if t.task.exercise == exercise.id]
        earned = sum(t.earned for t in tasks)
        later = sum(t.task.points for t in tasks if t.deferred)
        points = f"{earned}/{plural(exercise.points - later, 'point')}"
        if later == exercise.points:
            points = f"{plural(later, 'point')}, judged only when graded"
        elif later:
            points += f", {plural(later, 'point')} judged only when graded"
        say(f"\n[bold]{exercise.id} — {exercise.title}[/]  ({points})")
        if (why := broken(tasks)) is not None:
            say(f"  [red]✗[/] not checked: {escape(why)}")
            say("      fix this first: no task of the file can run until then", style="dim")
            continue
        untouched = pristine(exercise, impl)
        for task_score in tasks:
            task = task_score.task
            if task_score.passed and task_score.deferred:
                say(f"  [green]✓[/] task {task.n}: {task.title}")
                say(
                    "      every statement is answered; whether each answer is right is"
                    " checked only when your instructor grades it",
                    style="dim",
                    markup=False,
                )
                continue
            if task_score.passed:
                say(f"  [green]✓[/] task {task.n}: {task.title}")
                continue
            say(f"  [red]✗[/] task {task.n}: {task.title}")
            failure = task_score.first_failure
            if not_started(task_score, untouched):
                say("      not started yet", markup=False)
            elif failure is not None:
                say(f"      {failure.message or failure.status}", markup=False)
            hint = advice(task_score)
            if hint:
                say(f"      hint: {to_plain(hint)}", style="dim", markup=False)
    unfinished = unfinished_free_text(course, impl, exercise_ids)
    for exercise_id, name in unfinished:
        say(
            f"! {unfinished_warning(course, impl, exercise_id, name)}", style="yellow", markup=False
        )
    for problem in score.problems:
        say(f"! {problem}", style="yellow", markup=False)
    for flag in score.flags:
        say(f"! flagged: {flag.reason}", style="yellow", markup=False)
    done = sum(1 for t in score.tasks if t.passed)
    possible = score.possible - sum(t.task.points for t in score.tasks if t.deferred)
    say(
        f"\nProgress: {done}/{plural(len(score.tasks), 'task')},"
        f" {score.earned}/{plural(possible, 'point')} checked at home"
    )
    say(next_step(score, course, impl, unfinished), markup=False)
