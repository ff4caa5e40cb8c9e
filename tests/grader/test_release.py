"""`stepup release`: the student bundle holds what students need and none of the answers; the
check catches a bundle that leaks solutions, hidden tests or notebook outputs."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_kit.kit import KIT_ROOT, KitError
from course_kit.manifest import load_course
from course_kit.teach.publish.release import build_bundle, check_tree, dead_links


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("release") / "student"
    run = subprocess.run(
        [sys.executable, "-m", "course_kit.cli", "teach", "release", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return target


def test_the_bundle_has_what_students_need(bundle: Path) -> None:
    for exercise in load_course().exercises:
        assert (bundle / "exercises" / exercise.file).read_bytes() == (
            KIT_ROOT / "exercises" / exercise.file
        ).read_bytes()
        graded = list((bundle / "tests" / "graded").glob(f"test_{exercise.id}_*.py"))
        assert len(graded) == 1
    assert (bundle / "course_kit" / "grading" / "engine.py").is_file()
    assert not (bundle / "course_kit" / "teach").exists()  # the instructor's half stays home
    assert (bundle / "course.toml").is_file() and (bundle / "tests" / "conftest.py").is_file()


def test_the_bundle_has_no_answers(bundle: Path) -> None:
    names = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    assert not [n for n in names if n.startswith(("solutions", "tests/graded/hidden", ".git/"))]
    assert not [n for n in names if n.startswith(("tests/meta", "tests/grader"))]
    instructors = {"docs/instructors.md", "docs/authoring.md", "docs/performance.md"}
    assert not instructors & set(names)
    assert check_tree(bundle) == []


def test_the_bundle_is_the_students(bundle: Path) -> None:
    """Its README is the student's half, every relative link in it resolves inside the bundle,
    and neither its Makefile nor its `stepup` offers an instructor's command."""
    readme = (bundle / "README.md").read_text()
    assert "make lab" in readme and "make check" in readme
    assert "instructor" not in readme.lower().replace("your instructor", "")
    assert dead_links(bundle) == []
    assert (bundle / "docs" / "reference-app.md").is_file()  # the endpoints students need
    assert (bundle / ".jupyter" / "jupyter_server_config.py").is_file()  # make lab's settings
    makefile = (bundle / "Makefile").read_text()
    assert "lab:" in makefile and "check:" in makefile
    for target in ("test:", "release:", "autograder:", "bench:", "fuzz:"):
        assert target not in makefile, target
    run = subprocess.run(
        [sys.executable, "-m", "course_kit.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(bundle), "STEPUP_KIT_ROOT": str(bundle)},
        cwd=bundle,
    )
    assert run.returncode == 0, run.stderr
    assert "check" in run.stdout and "hint" in run.stdout
    assert "teach" not in run.stdout, run.stdout


def test_a_dead_link_is_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("[ok](docs/a.md) [gone](docs/b.md#x) [web](https://x)")
    (tmp_path / "docs" / "a.md").write_text("[back](../README.md) [lost](images/none.png)")
    assert dead_links(tmp_path) == ["README.md: docs/b.md", "docs/a.md: images/none.png"]


def copy_of(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(bundle, target)
    return target


def test_a_copied_solution_is_caught(bundle: Path, tmp_path: Path) -> None:
    leaky = copy_of(bundle, tmp_path)
    shutil.copy(KIT_ROOT / "solutions" / "ex03_five_minute_window.py", leaky / "notes.py")
    assert check_tree(leaky) == ["notes.py: a copy of solutions/ex03_five_minute_window.py"]


def test_an_answer_pasted_into_a_stub_is_caught(bundle: Path, tmp_path: Path) -> None:
    leaky = copy_of(bundle, tmp_path)
    stub = leaky / "exercises" / "ex04_why_reset_email_verified.py"
    solution = (KIT_ROOT / "solutions" / "ex04_why_reset_email_verified.py").read_text()
    answers = solution[solution.index("ANSWERS:") : solution.index("EXPLANATION =")]
    stub.write_text(stub.read_text() + "\n# oops\n" + answers)
    edited, leak = check_tree(leaky)
    assert "not the starting stub pinned in course.toml" in edited
    assert "holds the reference answer of ex04 ANSWERS" in leak


def test_hidden_tests_and_notebook_outputs_are_caught(bundle: Path, tmp_path: Path) -> None:
    leaky = copy_of(bundle, tmp_path)
    hidden = next((KIT_ROOT / "tests" / "graded" / "hidden").glob("test_*.py"))
    shutil.copy(hidden, leaky / "tests" / "extra_checks.py")
    notebook = {"cells": [{"cell_type": "code", "outputs": [{"text": "42"}], "source": ""}]}
    (leaky / "peek.ipynb").write_text(json.dumps(notebook))
    problems = check_tree(leaky)
    assert "tests/extra_checks.py: a hidden test file" in problems
    assert "peek.ipynb: committed with outputs" in problems


def test_a_zip_bundle_is_checked_too(tmp_path: Path) -> None:
    target = build_bundle(tmp_path / "student.zip")
    with zipfile.ZipFile(target) as archive:
        assert "exercises/ex01_email_change.py" in archive.namelist()
    assert check_tree(target) == []
    run = subprocess.run(
        [sys.executable, "-m", "course_kit.cli", "teach", "release", "--check", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    with zipfile.ZipFile(target, "a") as archive:
        archive.write(KIT_ROOT / "solutions" / "ex01_email_change.py", "solutions/ex01.py")
    run = subprocess.run(
        [sys.executable, "-m", "course_kit.cli", "teach", "release", "--check", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "solutions/ex01.py" in run.stderr


def test_release_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(KitError, match="not empty"):
        build_bundle(tmp_path)
