"""Where the kit lives and what it is made of.

The part lists are the one answer to "which files go where": the student bundle, the Gradescope
autograder and the sandbox that runs a submission each take a different slice of the kit, and
each slice is named here once.
"""

import os
from collections.abc import Sequence
from pathlib import Path

KIT_ROOT = Path(os.environ.get("STEPUP_KIT_ROOT") or Path(__file__).resolve().parent.parent)
# The origin of every app the kit starts for tests, notebooks and grading (the grader's sockets).
ORIGIN = "http://localhost:8000"


class KitError(Exception):
    """Something a person must fix (a misspelt key, an unknown exercise, a missing file): the
    message says what and where, and the command line prints it in one line, never a
    traceback."""

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for how a cell shows this error: in a notebook too, the message in
        one line (``exercises/ex03_….py has a syntax error on line 12: …``), not the kit's
        frames that led to it."""
        return [str(self)]


# What students get (``stepup teach release``): the app, the student half of the kit, their
# files and the visible graded tests. Never solutions/, the hidden tests or course_kit/teach/.
STUDENT_PARTS = (
    "course_app",
    "course_kit",
    "exercises",
    "notebooks",
    "tests/conftest.py",
    "tests/graded",
    "course.toml",
    "pyproject.toml",
    ".jupyter",  # make lab's JupyterLab settings: the Terminal's PATH, no news prompt
)
# Left out of the student parts above, whatever they contain; a student doc that links to one
# of these docs has a dead link in the bundle (and the release stops).
INSTRUCTOR_ONLY = (
    "course_kit/teach",
    "docs/instructors.md",
    "docs/authoring.md",
    "docs/performance.md",
)
# The Gradescope autograder: everything grading needs, hidden tests included; no solutions.
AUTOGRADER_PARTS = (
    "course_app",
    "course_kit",
    "tests/conftest.py",
    "tests/graded",
    "exercises",
    "course.toml",
    "pyproject.toml",
)
# What the confined submission process can see of the kit: the app its files import, and the
# few kit modules that import them and serve the app. Not the judge, not the manifest.
# ``tests/meta/test_layout.py`` proves this list holds everything the process imports.
SANDBOX_PARTS = (
    "course_app",
    "course_kit/__init__.py",
    "course_kit/kit.py",
    "course_kit/impl.py",
    "course_kit/people.py",
    "course_kit/timetravel.py",
    "course_kit/grading/__init__.py",
    "course_kit/grading/sandbox",
)


def graded_files(root: Path, exercise_ids: Sequence[str], hidden: str | None) -> list[Path]:
    """The graded test files of ``exercise_ids`` (and their hidden ones, when ``hidden``)."""
    folders = [root / "tests" / "graded"] + ([root / hidden] if hidden else [])
    return [p for e in exercise_ids for f in folders for p in sorted(f.glob(f"test_{e}_*.py"))]
