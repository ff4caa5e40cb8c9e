"""The hostile corpus (``hostile/``): submissions that hang, crash, flood or cheat. For each, the
grader finishes within its overall timeout, writes valid results, and awards exactly the points
actually earned; nothing it wrote changes after it returns, the kit is untouched, and none of
the grader's secrets reach the results. The cases are graded in parallel, once, by a module
fixture. Cases marked ``requires = "bwrap"`` test the operating system's confinement: they run
wherever it is available, and CI makes sure it is."""

import hashlib
import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from grader_helpers import (
    FAST,
    HOSTILE,
    as_json,
    case_of,
    exercise,
    prepare,
    statuses,
    validate_outputs,
)

from course_kit.grading.sandbox import cgroups
from course_kit.grading.sandbox.confine import detect
from course_kit.kit import KIT_ROOT
from course_kit.teach.grade.adapters import write_all
from course_kit.teach.grade.grade import grade

CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "case.toml").is_file())
# A forged result file waiting in the output folder must be replaced, not kept.
FORGED = '{"score": 22, "max_score": 22, "tests": []}'
SECRET = "grader-secret-3f9c1e7a"  # in the grader's environment: must never reach the results
HIDDEN_KEY = re.findall(
    r'"([0-9a-f]{16})"',
    (KIT_ROOT / "tests/graded/hidden/test_ex04_why_reset_email_verified_hidden.py").read_text(),
)
KIT_PARTS = ("course_app", "tests", "exercises", "solutions", "course.toml", "pyproject.toml")


def fingerprint(paths: list[Path]) -> dict[str, str]:
    prints = {f"entry {p.name}": "" for p in KIT_ROOT.iterdir()}  # nothing new beside the kit
    for base in paths:
        for path in [base] if base.is_file() else sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                prints[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return prints


def grade_case(folder: Path, outdir: Path) -> tuple[dict[str, Any], float]:
    os.environ["GRADER_SECRET_TOKEN"] = SECRET
    started = time.monotonic()
    found = grade(folder, limits=FAST)
    elapsed = time.monotonic() - started
    outdir.mkdir(parents=True)
    for forged in ("stepup-results.json", "results.json"):
        (outdir / forged).write_text(FORGED)
    write_all(found, outdir, ["gradescope", "exercism", "junit", "markdown"])
    return as_json(found), elapsed


CONFINEMENT = detect().mode
HAS_CGROUPS = cgroups.available()
OFFERED = {CONFINEMENT} | ({"cgroups"} if HAS_CGROUPS else set())
RUNNABLE = [n for n in CASES if case_of(n).get("requires", CONFINEMENT) in OFFERED]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case graded; then, a while later, what the outputs and the kit look like."""
    root = tmp_path_factory.mktemp("hostile")
    kit = [KIT_ROOT / part for part in KIT_PARTS]
    kit_before = fingerprint(kit)
    folders = {name: prepare(name, root / "in") for name in RUNNABLE}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = {
            name: pool.submit(grade_case, folder, root / "out" / name)
            for name, folder in folders.items()
        }
        found = {name: (*f.result(), root / "out" / name) for name, f in futures.items()}
    written = fingerprint([root / "out"])
    time.sleep(3)  # long enough for anything left running to strike
    return {
        "cases": found,
        "written": written,
        "later": fingerprint([root / "out"]),
        "kit_before": kit_before,
        "kit_after": fingerprint(kit),
    }


def test_confinement_is_there_in_ci() -> None:
    """CI must run every case; elsewhere the cases that need bubblewrap may be left out."""
    if not os.environ.get("CI"):
        skipped = sorted(set(CASES) - set(RUNNABLE))
        pytest.skip(f"checked in CI only; here {CONFINEMENT!r}, cases not run: {skipped}")
    assert CONFINEMENT == "bwrap", "CI must grade under bubblewrap: .ci/run installs it"
    assert HAS_CGROUPS, "CI must grade in control groups: it runs as root with cgroups"
    assert RUNNABLE == CASES


def test_nothing_changes_after_the_grader_returns(graded: dict) -> None:
    changed = sorted(p for p in graded["later"] if graded["later"][p] != graded["written"].get(p))
    assert changed == [], f"results rewritten after grading: {changed}"


def test_the_kit_is_untouched(graded: dict) -> None:
    before, after = graded["kit_before"], graded["kit_after"]
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert changed == [], f"kit files changed while grading hostile submissions: {changed}"


def test_no_secret_reaches_the_results(graded: dict) -> None:
    for name, (_, _, outdir) in graded["cases"].items():
        for path in outdir.iterdir():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert SECRET not in text, f"{name}: the grader's environment leaked into {path.name}"
            leaked = [k for k in HIDDEN_KEY if k in text]
            assert leaked == [], f"{name}: the hidden answer key leaked into {path.name}"


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
        "spawn_detached",
        "sqlite_escape",
        "read_secrets",
        "kit_append",
        "steal_from_classmates",
        "forge_channel",
        "symlink_db",
        "surrogate_message",
        "compressed_bomb",
        "many_members",
        "modal_loop",
        "trickle",
        "huge_answer",
        "huge_post",
        "fork_memory",
        "flood_questions",
    }
    assert wanted <= set(CASES)


@pytest.mark.parametrize("name", RUNNABLE)
def test_hostile_submission_is_graded_fairly(name: str, graded: dict) -> None:
    case = case_of(name)
    found, elapsed, outdir = graded["cases"][name]
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
        accepted = expected.get("messages", [expected["message"]] if "message" in expected else [])
        if accepted:
            assert any(m in t for m in accepted for t in texts), texts[:3]
    for honest in case.get("honest", []):
        assert exercise(found, honest)["score"] == exercise(found, honest)["max_score"]
    if HAS_CGROUPS and any(t["status"] == "pass" for t in found["tests"]):
        # the grading processes, all of them, stayed within the judges' and submission's budgets
        (note,) = [n for n in found["notes"] if n.startswith("memory: ")]
        peak, budget = map(int, re.findall(r"(\d+) MiB", note))
        assert peak <= budget, note
