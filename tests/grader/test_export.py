"""`stepup export gradescope`: the autograder zip, tried the way Gradescope runs it, against a
fake /autograder layout (``STEPUP_AUTOGRADER_ROOT``) in a temporary folder."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from grader_helpers import COURSE, GRADESCOPE_SCHEMA, submission

from course_kit.kit import KIT_ROOT, KitError
from course_kit.teach.publish.gradescope import export_gradescope


def test_the_autograder_zip_grades_a_submission_and_ships_no_solutions(tmp_path: Path) -> None:
    target = tmp_path / "autograder.zip"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_kit.cli",
            "teach",
            "export",
            "gradescope",
            "-o",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        archive.extractall(tmp_path / "autograder" / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt", "course.toml"} <= set(names)
    assert not [n for n in names if n.startswith("solutions/") or "__pycache__" in n]
    assert any(n.startswith("tests/graded/hidden/") for n in names)  # graded, so shipped here
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    requirements = (tmp_path / "autograder/source/requirements.txt").read_text()
    assert "pytest" in requirements and "jupyter" not in requirements

    root = tmp_path / "autograder"
    submission(root / "submission")
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPUP_")}
    env |= {"STEPUP_AUTOGRADER_ROOT": str(root), "STEPUP_PYTHON": sys.executable}
    run = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr

    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == COURSE.points, results["output"]


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
