"""The graded tests can fail for the right reason: solutions earn every point, untouched stubs
earn none, and each buggy variant (mutants.toml) loses exactly the tasks it breaks."""

import shutil
import tomllib
from pathlib import Path

import pytest

from course_kit.grading.engine import run_graded
from course_kit.grading.outcome import Score, score
from course_kit.kit import AUTOGRADER_PARTS, KIT_ROOT
from course_kit.manifest import Course, load_course

COURSE = load_course()
MUTANTS = tomllib.loads((Path(__file__).parent / "mutants.toml").read_text())["mutant"]
KIT_PARTS = (*AUTOGRADER_PARTS, "solutions")  # what grading needs, and the code to mutate


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


def make_mutant_kit(mutant: dict, root: Path) -> Path:
    for part in KIT_PARTS:
        source = KIT_ROOT / part
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / part)
    target = root / mutant["file"]
    text = target.read_text(encoding="utf-8")
    assert text.count(mutant["old"]) == 1, f"{mutant['name']}: the text to mutate is not unique"
    text = text.replace(mutant["old"], mutant["new"])
    if "extra" in mutant:
        assert text.count(mutant["extra"][0]) == 1, f"{mutant['name']}: extra text not found"
        text = text.replace(*mutant["extra"])
    target.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_buggy_variant_loses_the_task_it_breaks(mutant: dict, tmp_path: Path) -> None:
    kit = make_mutant_kit(mutant, tmp_path)
    exercise_ids = sorted({key.split("/")[0] for key in mutant["breaks"]})
    result, output = graded(kit / "solutions", exercise_ids, load_course(kit))
    lost = {t.task.key for t in result.tasks if not t.passed}
    assert lost == set(mutant["breaks"]), (
        f"{mutant['name']}: lost {sorted(lost)}, expected {mutant['breaks']}\n{output[-2000:]}"
    )
