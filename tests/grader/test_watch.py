"""`stepup watch`: a save re-runs the check of the exercise that was edited, ending with the
next step."""

import io
import shutil
import threading
import time
from pathlib import Path

from rich.console import Console

from course_kit.impl import resolve
from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course
from course_kit.student.watch import edited, watch

COURSE = load_course()


def test_edited_files_name_their_exercises() -> None:
    paths = ["/x/exercises/ex04_why_reset_email_verified.py", "/x/exercises/notes.txt", "/y/a.py"]
    assert edited(paths, COURSE) == ["ex04"]


def test_saving_an_exercise_checks_it_again(tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    folder.mkdir()
    stub = KIT_ROOT / "exercises" / "ex04_why_reset_email_verified.py"
    shutil.copy(stub, folder / stub.name)
    out = io.StringIO()
    ready, stop = threading.Event(), threading.Event()
    console = Console(file=out, width=200, highlight=False)
    thread = threading.Thread(
        target=watch, args=(resolve(str(folder)), COURSE, console, stop, ready.set), daemon=True
    )
    thread.start()
    try:
        assert ready.wait(300), out.getvalue()
        before = out.getvalue()
        assert "Next: exercises/ex01_email_change.py task 1" in before  # ex01 is missing here
        shutil.copy(KIT_ROOT / "solutions" / stub.name, folder / stub.name)  # the student saves
        deadline = time.monotonic() + 300
        while "Progress: 1/1 task," not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.2)
        after = out.getvalue()[len(before) :]
        assert "✓ task 1" in after, after
        assert after.rstrip().splitlines()[-1].startswith("Next: exercises/ex05_password_change.py")
    finally:
        stop.set()
        thread.join(timeout=30)
