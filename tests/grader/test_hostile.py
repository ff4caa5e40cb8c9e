"""The hostile corpus (``hostile/``): submissions that hang, crash, flood or cheat. For each, the
grader finishes within its overall timeout, writes valid results, and awards exactly the points
actually earned. The cases are graded in parallel, once, by a module fixture."""

import multiprocessing
import shutil
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from grader_helpers import FAST, exercise, statuses, submission, validate_outputs

from course_app.grading.adapters import write_all
from course_app.grading.grade import grade
from course_app.manifest import KIT_ROOT

HOSTILE = Path(__file__).parent / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "case.toml").is_file())
# A forged result file waiting in the output folder must be replaced, not kept.
FORGED = '{"score": 22, "max_score": 22, "tests": []}'


def case_of(name: str) -> dict[str, Any]:
    return tomllib.loads((HOSTILE / name / "case.toml").read_text())


def prepare(name: str, root: Path) -> Path:
    """The case's folder as a submission: its files, its honest parts, its derived file."""
    case = case_of(name)
    target = root / name
    shutil.copytree(HOSTILE / name, target, ignore=shutil.ignore_patterns("case.toml"))
    submission(target, only=case.get("honest", []))
    if "derive" in case:
        derive = case["derive"]
        text = (KIT_ROOT / derive["file"]).read_text()
        assert text.count(derive["old"]) == 1, f"{name}: the text to replace is not unique"
        (target / "exercises").mkdir(exist_ok=True)
        (target / "exercises" / Path(derive["file"]).name).write_text(
            text.replace(derive["old"], derive["new"])
        )
    return target


def grade_case(folder: Path, outdir: Path) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    found = grade(folder, limits=FAST, shards=1)
    elapsed = time.monotonic() - started
    outdir.mkdir(parents=True)
    for forged in ("stepup-results.json", "results.json"):
        (outdir / forged).write_text(FORGED)
    write_all(found, outdir, ["gradescope", "exercism", "junit", "markdown"])
    return found, elapsed


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, float, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    folders = {name: prepare(name, root / "in") for name in CASES}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = {
            name: pool.submit(grade_case, folder, root / "out" / name)
            for name, folder in folders.items()
        }
        return {name: (*f.result(), root / "out" / name) for name, f in futures.items()}


def test_the_corpus_covers_the_issue_list() -> None:
    wanted = {
        "import_loop",
        "handler_loop",
        "sys_exit",
        "os_exit",
        "memory_bomb",
        "output_flood",
        "import_solutions",
        "patch_reporting",
        "fake_results",
        "tamper_tests",
        "syntax_error",
        "empty",
    }
    assert wanted <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_hostile_submission_is_graded_fairly(name: str, graded: dict) -> None:
    case = case_of(name)
    found, elapsed, outdir = graded[name]
    assert elapsed < FAST.overall_timeout + 15, f"{name} took {elapsed:.1f} s"
    written = validate_outputs(outdir)
    assert written == found, "the results file on disk is not the grader's"
    assert found["score"] == case["score"], (name, found["score"], found["exercises"])
    assert found["status"] == case.get("status", "ok"), found["message"]
    assert found["flagged"] == case.get("flagged", False), found["flags"]
    if "message" in case:
        assert case["message"] in found["message"], found["message"]
    for exercise_id, expected in case.get("exercises", {}).items():
        seen = statuses(found, exercise_id)
        assert seen and seen <= set(expected["statuses"]), (exercise_id, seen)
        texts = [t["message"] for t in found["tests"] if t["exercise"] == exercise_id]
        texts.append(exercise(found, exercise_id)["message"])
        if "message" in expected:
            assert any(expected["message"] in t for t in texts), texts[:3]
    for honest in case.get("honest", []):
        assert exercise(found, honest)["score"] == exercise(found, honest)["max_score"]
