"""`stepup grade --batch`: a folder of submissions graded N at a time into a gradebook."""

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grader_helpers import COURSE, submission, validate_outputs

from course_app.manifest import KIT_ROOT

STEPUP = [sys.executable, "-m", "course_app.cli"]


def test_a_batch_gives_a_gradebook_row_and_results_per_submission(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    submission(inbox / "ada", only=["ex04"])
    shutil.copytree(KIT_ROOT / "exercises", inbox / "bob" / "exercises")
    with zipfile.ZipFile(inbox / "cyd.zip", "w") as archive:
        archive.writestr("exercises/ex03_five_minute_window.py", "def broken(:\n")
    zipfile.ZipFile(inbox / "dee.zip", "w").close()
    (inbox / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"

    run = subprocess.run(
        [*STEPUP, "grade", "--batch", str(inbox), "--jobs", "2", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr

    with (out / "gradebook.csv").open() as fh:
        rows = {row["submission"]: row for row in csv.DictReader(fh)}
    assert list(rows) == ["ada", "bob", "cyd.zip", "dee.zip"]
    assert [rows[n]["score"] for n in rows] == ["2", "0", "0", "0"]
    assert rows["ada"]["ex04"] == "2" and rows["ada"]["status"] == "ok"
    assert rows["bob"]["status"] == "ok"
    assert rows["cyd.zip"]["status"] == "error" and "syntax error" in rows["cyd.zip"]["message"]
    assert rows["dee.zip"]["status"] == "error" and "empty zip" in rows["dee.zip"]["message"]
    assert all(row["max_score"] == str(COURSE.points) for row in rows.values())
    for name in rows:
        validate_outputs(out / name)
