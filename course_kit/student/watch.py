"""``stepup watch``: rustlings' watch mode. Every time an exercise file is saved, its graded
tests run again (the same check as ``stepup check exNN``) and the next step is printed. One
judge stays warm between saves (``WarmJudge``): a fresh submission process boots while the
student edits and imports the saved file at the check, so a save costs the tests, not the start
of two Python processes, and nothing of the file's earlier versions."""

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console

from course_kit.grading.engine import WarmJudge
from course_kit.impl import Implementation
from course_kit.manifest import Course
from course_kit.student.report import print_report

DEBOUNCE_MS = 300  # editors save in several writes: wait for the last one


def edited(paths: Iterable[str], course: Course) -> list[str]:
    """The exercises whose files are among ``paths``, in course order."""
    names = {Path(p).name for p in paths}
    return [e.id for e in course.exercises if e.file in names]


def run_once(
    judge: WarmJudge,
    impl: Implementation,
    course: Course,
    exercise_ids: list[str] | None,
    console: Console,
) -> None:
    score, _ = judge.check(exercise_ids)
    print_report(score, course, impl, console, exercise_ids=exercise_ids)


def watch(
    impl: Implementation,
    course: Course,
    console: Console | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Check everything once, then the edited exercise at every save, until ``stop``."""
    from watchfiles import watch as changes

    console = console or Console(highlight=False)
    judge = WarmJudge(impl.folder, course)
    try:
        run_once(judge, impl, course, None, console)
        console.print(f"\nWatching {impl.folder} — save an exercise file to check it again.")
        if on_ready is not None:
            on_ready()
        changed = changes(impl.folder, stop_event=stop, debounce=DEBOUNCE_MS, rust_timeout=500)
        for batch in changed:
            ids = edited((path for _, path in batch), course)
            if ids:
                console.rule(", ".join(ids))
                run_once(judge, impl, course, ids, console)
    finally:
        judge.close()
