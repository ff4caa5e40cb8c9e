"""Run the graded tests against an implementation and score them, task by task.

One engine for everyone: ``stepup check`` (a student at home), ``stepup grade`` (the instructor)
and the maintainers' both-directions test all call :func:`run_graded`, which runs the tests in
watched child processes (:mod:`course_app.grading.runner`). This process never imports the code
under test, so a crashing, hanging or cheating submission cannot take it down.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from course_app.grading.config import Limits, load_config
from course_app.grading.runner import Flag, RunOutcome, RunSpec, TestResult, run
from course_app.manifest import KIT_ROOT, Course, Task, load_course

__all__ = ["Score", "TaskScore", "TestResult", "check", "run_graded", "run_tests", "score"]


@dataclass
class TaskScore:
    task: Task
    results: list[TestResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.status == "pass" for r in self.results)

    @property
    def earned(self) -> int:
        return self.task.points if self.passed else 0

    @property
    def first_failure(self) -> TestResult | None:
        return next((r for r in self.results if r.status != "pass"), None)


@dataclass
class Score:
    tasks: list[TaskScore]
    problems: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def earned(self) -> int:
        return sum(t.earned for t in self.tasks)

    @property
    def possible(self) -> int:
        return sum(t.task.points for t in self.tasks)

    def exercise_points(self, exercise_id: str) -> int:
        return sum(t.earned for t in self.tasks if t.task.exercise == exercise_id)

    def task(self, exercise_id: str, n: int) -> TaskScore:
        return next(t for t in self.tasks if t.task.exercise == exercise_id and t.task.n == n)


def course_at(kit_root: Path) -> Course:
    return load_course(kit_root / "course.toml")


def graded_files(kit_root: Path, exercise_ids: Sequence[str]) -> list[Path]:
    folder = kit_root / "tests" / "graded"
    return [p for e in exercise_ids for p in sorted(folder.glob(f"test_{e}_*.py"))]


def run_graded(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    kit_root: Path = KIT_ROOT,
    *,
    run_ids: Sequence[str] | None = None,
    include_hidden: bool = False,
    limits: Limits | None = None,
    shards: int = 2,
    scratch: Path | None = None,
    guard: Callable[[], list[str]] | None = None,
) -> RunOutcome:
    """List the graded tests of ``exercise_ids`` (all by default) and run those of ``run_ids``
    (the same by default) against ``impl_folder``; hidden tests only when ``include_hidden``."""
    course = course_at(kit_root)
    config = load_config(kit_root)
    ids = list(exercise_ids or [e.id for e in course.exercises])
    solutions = KIT_ROOT / "solutions"
    inside_solutions = impl_folder.resolve().is_relative_to(solutions.resolve())
    spec = RunSpec(
        kit_root=kit_root,
        impl_folder=impl_folder,
        course=course,
        collect=ids,
        run=list(run_ids if run_ids is not None else ids),
        limits=limits or config.limits,
        hidden_dir=config.hidden_dir if include_hidden else None,
        # The reference answers stay out of reach, wherever the kit that grades lives.
        unreadable=[] if inside_solutions or not solutions.is_dir() else [solutions],
        shards=shards,
        scratch=scratch,
        guard=guard,
    )
    return run(spec)


def run_tests(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    kit_root: Path = KIT_ROOT,
    include_hidden: bool = True,
) -> tuple[list[TestResult], str]:
    """Every graded test (hidden ones too) → per-test results and the children's output."""
    outcome = run_graded(impl_folder, exercise_ids, kit_root, include_hidden=include_hidden)
    problems = "".join(f"\n! {p}" for p in outcome.problems + [f.reason for f in outcome.flags])
    return outcome.results, outcome.output + problems


def score(
    results: Sequence[TestResult],
    exercise_ids: Sequence[str] | None = None,
    course: Course | None = None,
) -> Score:
    """Points per task: a task is earned only when every one of its tests passed."""
    course = course or load_course()
    ids = set(exercise_ids or [e.id for e in course.exercises])
    tasks = [
        TaskScore(t, [r for r in results if r.exercise == t.exercise and r.task == t.n])
        for t in course.tasks
        if t.exercise in ids
    ]
    problems = [f"{t.task.key} has no graded test" for t in tasks if not t.results]
    return Score(tasks, problems)


def check(
    impl_folder: Path, exercise_ids: Sequence[str] | None = None, kit_root: Path = KIT_ROOT
) -> tuple[Score, str]:
    """The student's self-check: the visible graded tests, under the grader's own limits."""
    outcome = run_graded(impl_folder, exercise_ids, kit_root)
    result = score(outcome.results, exercise_ids, course_at(kit_root))
    result.flags = outcome.flags
    result.problems += outcome.problems
    if not outcome.results and not outcome.problems:
        result.problems.append("the graded tests did not run:\n" + outcome.output[-2000:])
    return result, outcome.output
