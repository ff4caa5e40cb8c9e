"""`stepup grade --batch`: a folder of submissions graded N at a time into a gradebook."""

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grader_helpers import COURSE, submission, validate_outputs

from course_kit.grading.sandbox.confine import detect
from course_kit.kit import KIT_ROOT

HOSTILE = Path(__file__).parent / "hostile"
STEPUP = [sys.executable, "-m", "course_kit.cli", "teach"]


def grade_batch_command(inbox: Path, out: Path) -> dict[str, dict[str, str]]:
    """``stepup grade --batch`` as an instructor runs it; the gradebook's rows by name."""
    run = subprocess.run(
        [*STEPUP, "batch", str(inbox), "--jobs", "2", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr
    with (out / "gradebook.csv").open() as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


def test_a_batch_gives_a_gradebook_row_and_results_per_submission(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    submission(inbox / "ada", only=["ex04"])
    shutil.copytree(KIT_ROOT / "exercises", inbox / "bob" / "exercises")
    with zipfile.ZipFile(inbox / "cyd.zip", "w") as archive:
        archive.writestr("exercises/ex03_five_minute_window.py", "def broken(:\n")
    zipfile.ZipFile(inbox / "dee.zip", "w").close()
    (inbox / "eve.zip").write_bytes(b"PK\x03\x04" + b"\xff" * 200)  # damaged beyond reading
    with zipfile.ZipFile(inbox / "fay.zip", "w") as archive:  # made on Windows: backslashes
        source = (KIT_ROOT / "solutions" / "ex04_why_reset_email_verified.py").read_text()
        archive.writestr("fay\\exercises\\ex04_why_reset_email_verified.py", source)
    odd = Path(os.fsdecode(bytes(inbox) + b"/g\xe9o"))  # a folder name that is not UTF-8
    submission(odd, only=["ex04"])
    submission(inbox / "g\\xe9o", only=["ex04"])  # the same name, spelt out: a distinct row
    submission(inbox / "=HYPERLINK(1)", only=["ex04"])  # a spreadsheet must not run it
    (inbox / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    rows = grade_batch_command(inbox, out)
    names = ["'=HYPERLINK(1)", "ada", "bob", "cyd.zip", "dee.zip", "eve.zip", "fay.zip"]
    assert list(rows) == [*names, "g\\xe9o", "g\\xe9o~2"]
    assert [rows[n]["score"] for n in rows] == ["2", "2", "0", "0", "0", "0", "2", "2", "2"]
    assert rows["ada"]["ex04"] == "2" and rows["ada"]["status"] == "ok"
    assert rows["bob"]["status"] == "ok"
    assert rows["cyd.zip"]["status"] == "error" and "syntax error" in rows["cyd.zip"]["message"]
    assert rows["dee.zip"]["status"] == "error" and "empty zip" in rows["dee.zip"]["message"]
    assert rows["eve.zip"]["status"] == "error" and "cannot be read" in rows["eve.zip"]["message"]
    assert all(row["max_score"] == str(COURSE.points) for row in rows.values())
    for name in rows:
        validate_outputs(out / name.lstrip("'"))


@pytest.mark.skipif(detect().mode != "bwrap", reason="classmates are kept apart by bubblewrap")
def test_classmates_graded_together_cannot_reach_each_other(tmp_path: Path) -> None:
    """An honest submission and one that hunts for it (to copy its answer and spoil its
    database) graded side by side: each earns exactly its own points."""
    inbox = tmp_path / "inbox"
    submission(inbox / "honest", only=["ex01"])
    thief = inbox / "thief" / "exercises"
    thief.mkdir(parents=True)
    shutil.copy(HOSTILE / "steal_from_classmates/exercises/ex01_email_change.py", thief)
    rows = grade_batch_command(inbox, tmp_path / "out")
    assert rows["honest"]["ex01"] == "5", rows["honest"]
    assert rows["thief"]["ex01"] == "0", rows["thief"]
