"""`stepup grade --batch`: a folder of submissions graded N at a time into a gradebook."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from grader_helpers import COURSE, HOSTILE, submission, validate_outputs

from course_kit.grading.sandbox import cgroups
from course_kit.grading.sandbox.confine import detect
from course_kit.kit import KIT_ROOT
from course_kit.teach.grade.reaper import descendants, parents

T = TypeVar("T")
STEPUP = [sys.executable, "-m", "course_kit.cli", "teach"]


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open() as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


def grade_batch_command(inbox: Path, out: Path) -> dict[str, dict[str, str]]:
    """``stepup teach batch`` as an instructor runs it; the gradebook's rows by name."""
    run = subprocess.run(
        [*STEPUP, "batch", str(inbox), "--jobs", "2", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr
    return gradebook(out)


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


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(what: str, found: Callable[[], T | None], limit: float = 600) -> T:
    """Poll until ``found()`` answers; the limit only keeps a broken grader from hanging CI."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        answer = found()
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def test_a_killed_worker_costs_its_own_row_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """The out-of-memory killer's way: SIGKILL to the worker grading one submission, while
    its judge and submission process run. Only that row is lost, and what the worker had
    started (judge, submission process) and its work folder are gone when the batch ends."""
    inbox = tmp_path / "inbox"
    submission(inbox / "ada", only=["ex04"])
    submission(inbox / "bob", only=["ex04"])
    victim = inbox / "victim" / "exercises"
    victim.mkdir(parents=True)
    # Its import never ends (the time limits below are long), so the worker is surely alive.
    shutil.copy(HOSTILE / "import_loop/exercises/ex01_email_change.py", victim)
    out = tmp_path / "out"
    limits = ["--per-test-timeout", "900", "--overall-timeout", "1800"]
    batch = subprocess.Popen(
        [*STEPUP, "batch", str(inbox), "--jobs", "2", "-o", str(out), *limits],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def worker() -> int | None:
            return next(
                (
                    pid
                    for pid, parent in parents().items()
                    if parent == batch.pid and str(inbox / "victim") in command_line(pid)
                ),
                None,
            )

        victim_worker = wait_for("the victim's worker", worker)

        def started() -> list[int] | None:
            tree = descendants(victim_worker, parents())
            running = " ".join(command_line(pid) for pid in tree)
            return tree if "course_kit.grading.sandbox.process" in running else None

        left = wait_for("the victim's submission process", started)
        environment = (Path("/proc") / str(victim_worker) / "environ").read_bytes().split(b"\0")
        root = Path(
            next(v[17:] for v in environment if v.startswith(b"STEPUP_WORK_ROOT=")).decode()
        )
        assert root.is_dir() and any(root.iterdir()), "the worker's work root holds its work"
        groups = cgroups.left_by(victim_worker)  # its run's control groups, where there are some
        assert bool(groups) == cgroups.available(), groups
        os.kill(victim_worker, signal.SIGKILL)
        _, errors = batch.communicate(timeout=900)
    finally:
        batch.kill()
    assert batch.returncode == 0, errors
    rows = gradebook(out)
    assert [(n, r["status"], r["score"]) for n, r in rows.items()] == [
        ("ada", "ok", "2"),
        ("bob", "ok", "2"),
        ("victim", "error", "0"),
    ]
    assert "the grader's worker was killed by SIGKILL" in rows["victim"]["message"]
    validate_outputs(out / "victim")
    assert [pid for pid in left if alive(pid)] == [], "the dead worker's processes still run"
    assert not root.exists(), "the dead worker's work root is still there"
    assert cgroups.left_by(victim_worker) == [], "the dead worker's control groups are still there"
    assert not [p for group in groups for p in group.paths if p.exists()]
