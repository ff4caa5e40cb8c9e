"""The graded tests can fail for the right reason: solutions earn every point, untouched stubs
earn none, each buggy variant (mutants.toml) loses exactly the tasks it breaks, and tasks can
be passed in order."""

from pathlib import Path

import pytest

from course_kit.grading.engine import run_graded
from course_kit.grading.outcome import Score, score
from course_kit.kit import KIT_ROOT
from course_kit.manifest import Course, Exercise, load_course
from course_kit.teach.author.mutants import Mutant, load_mutants, mutant_kit
from course_kit.teach.author.verify import in_order

COURSE = load_course()
MUTANTS = load_mutants(KIT_ROOT)


def graded(
    impl: Path, exercise_ids: list[str] | None = None, course: Course = COURSE
) -> tuple[Score, str]:
    """Every graded test (hidden ones too) of ``exercise_ids`` against ``impl``: the score,
    and the children's output with the problems and flags, to show when a check fails."""
    outcome = run_graded(impl, exercise_ids, course, include_hidden=True)
    problems = "".join(f"\n! {p}" for p in outcome.problems + [f.reason for f in outcome.flags])
    return score(outcome.results, course, exercise_ids), outcome.output + problems


def test_solutions_earn_every_point() -> None:
    result, output = graded(KIT_ROOT / "solutions")
    lost = [
        f"{t.task.key}: {t.first_failure.message}"
        for t in result.tasks
        if not t.passed
        if t.first_failure
    ]
    assert result.earned == COURSE.points, lost or output[-3000:]
    assert result.problems == []


def test_untouched_stubs_earn_nothing() -> None:
    result, output = graded(KIT_ROOT / "exercises")
    assert all(t.results for t in result.tasks), output[-3000:]
    passing = [t.task.key for t in result.tasks if t.passed]
    assert passing == [], f"tasks already solved by the stubs: {passing}"
    assert all(t.first_failure is not None for t in result.tasks)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_buggy_variant_loses_the_task_it_breaks(mutant: Mutant, tmp_path: Path) -> None:
    kit = mutant_kit(mutant, KIT_ROOT, tmp_path)
    result, output = graded(kit / "solutions", mutant.exercises, load_course(kit))
    lost = {t.task.key for t in result.tasks if not t.passed}
    assert lost == set(mutant.breaks), (
        f"{mutant.name}: lost {sorted(lost)}, expected {mutant.breaks}\n{output[-2000:]}"
    )


HALF_WAY = [(e, k) for e in COURSE.exercises for k in range(1, len(e.tasks))]


@pytest.mark.parametrize(
    ("exercise", "written"), HALF_WAY, ids=[f"{e.id}-tasks-1-to-{k}" for e, k in HALF_WAY]
)
def test_tasks_pass_in_order(exercise: Exercise, written: int) -> None:
    """With the answers of tasks 1..k written (the stub generated with those kept), exactly
    tasks 1..k pass: no test needs the code of a later task."""
    assert in_order(COURSE, exercise, written) == []
