"""`stepup teach export gradescope`: the autograder zip, and `stepup teach dry-run`, which plays
Gradescope's harness with it (setup.sh once, run_autograder once, in a scratch root laid out as
/autograder) and checks results.json against Gradescope's documented fields."""

import json
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from grader_helpers import COURSE, submission

from course_kit.kit import KIT_ROOT, KitError
from course_kit.teach.publish.dryrun import dry_run
from course_kit.teach.publish.gradescope import export_gradescope
from course_kit.teach.publish.requirements import declared

STEPUP = [sys.executable, "-m", "course_kit.cli", "teach"]


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "autograder.zip"
    run = subprocess.run(
        [*STEPUP, "export", "gradescope", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return target


def test_the_autograder_zip_ships_what_grading_needs_and_no_solutions(autograder: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "course.toml"} <= set(names)
    assert not [n for n in names if n.startswith("solutions/") or "__pycache__" in n]
    assert any(n.startswith("tests/graded/hidden/") for n in names)  # graded, so shipped here
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR


def test_requirements_are_pinned_to_the_versions_the_tests_ran_with(autograder: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        lines = archive.read("requirements.txt").decode().splitlines()
    pins = dict(line.split("==") for line in lines if not line.startswith("#"))
    assert all(pins.values()) and len(pins) == len(lines) - 1  # every line exact
    named = {name.lower(): pinned for name, pinned in pins.items()}
    for requirement in declared(KIT_ROOT):  # each dependency, as installed here
        name = requirement.split(">")[0].split("[")[0].strip().lower()
        assert named[name] == version(name), name
    # and what they need in turn, which pip would otherwise choose on the day
    assert named["starlette"] == version("starlette") and named["pluggy"] == version("pluggy")
    assert not {"jupyterlab", "matplotlib", "ruff"} & set(named)  # not what grading needs


def test_a_dry_run_grades_like_gradescope_and_results_json_holds(
    autograder: Path, tmp_path: Path
) -> None:
    found = dry_run(
        submission(tmp_path / "upload"), tmp_path / "root", autograder, python=sys.executable
    )
    assert found.ok, (found.problems, [s.output for s in found.steps])
    assert [s.script for s in found.steps] == ["setup.sh", "run_autograder"]
    assert "holds every pinned version" in found.steps[0].output  # setup.sh checked the pins
    assert found.results is not None and found.results.score == COURSE.points
    tests = found.results.tests or []
    assert sum(t.max_score or 0 for t in tests) == COURSE.points
    # The instructor's summary goes to stdout, which Gradescope shows instructors only.
    assert found.results.stdout_visibility == "hidden"
    assert "## Failed tests" not in found.steps[1].output  # nothing failed
    assert f"\n# {COURSE.title}: submission\n" in found.steps[1].output
    hidden = (tmp_path / "root" / "source" / "tests" / "graded" / "hidden").stat().st_mode
    assert not hidden & 0o077  # setup.sh made the hidden tests the grader's alone


def test_the_dry_run_command_refuses_results_gradescope_would_not_read(
    autograder: Path, tmp_path: Path
) -> None:
    """A run_autograder that writes fields the spec does not have, of the wrong type."""
    broken = tmp_path / "broken.zip"
    bogus = '{"score": "22", "tests": [{"name": "x", "visibility": "soon"}], "grade": "A"}'
    with zipfile.ZipFile(autograder) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "run_autograder":
                results = '"$STEPUP_AUTOGRADER_ROOT/results"'
                data = f"mkdir -p {results}\necho '{bogus}' > {results}/results.json\n".encode()
            target.writestr(item, data)
    run = subprocess.run(
        [
            *STEPUP,
            "dry-run",
            str(submission(tmp_path / "upload", only=["ex04"])),
            f"--autograder={broken}",
            f"--python={sys.executable}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "results.json: score: Input should be a valid number" in run.stderr
    assert "results.json: tests.0.visibility: Input should be" in run.stderr
    assert "results.json: grade: Extra inputs are not permitted" in run.stderr


def test_setup_refuses_an_interpreter_with_other_versions(autograder: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(autograder) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "requirements.txt":
                data = data.replace(f"pytest=={version('pytest')}".encode(), b"pytest==7.0.0")
            target.writestr(item, data)
    found = dry_run(
        submission(tmp_path / "upload", only=["ex04"]), tmp_path / "root", changed, sys.executable
    )
    assert found.problems == ["setup.sh failed (exit status 1)"]
    assert f"pytest: {version('pytest')} installed, pinned ==7.0.0" in found.steps[0].output


def test_a_kit_whose_stub_leaks_an_answer_is_refused(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    for part in ("course_app", "tests/graded", "exercises", "solutions"):
        shutil.copytree(KIT_ROOT / part, kit / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("course.toml", "pyproject.toml", "tests/conftest.py"):
        shutil.copy(KIT_ROOT / part, kit / part)
    stub = kit / "exercises" / "ex02_api_keys.py"
    solved = (kit / "solutions" / "ex02_api_keys.py").read_text()
    stub.write_text(solved.replace("# Keep only the hash", "# keep only the hash"))  # not a copy

    with pytest.raises(KitError, match=r"exercises/ex02_api_keys\.py: the code of solutions"):
        export_gradescope(tmp_path / "autograder.zip", kit)
    assert not (tmp_path / "autograder.zip").exists()


def test_results_json_of_a_real_grade_reads_as_gradescope_documents_it(
    autograder: Path, tmp_path: Path
) -> None:
    """The stub submission too: every entry failed, still the documented fields only."""
    found = dry_run(KIT_ROOT / "exercises", tmp_path / "root", autograder, sys.executable)
    assert found.ok, found.problems
    written = json.loads((tmp_path / "root" / "results" / "results.json").read_text())
    assert written["score"] == 0 and all(t["status"] == "failed" for t in written["tests"])
