"""The student's stub, generated from the solution: the instructor writes each exercise once.

In ``solutions/exNN_….py`` the answer carries markers (comments, so the file stays the runnable
reference), in the spirit of nbgrader and otter-grader:

    # TODO(task 2): 8 to 72 bytes in UTF-8 (course_app.security.passwords), else 400.
    # BEGIN SOLUTION
    try:
        return hash_password(password, rounds)
    ...
    # END SOLUTION
    # STUB raise NotImplementedError("task 2: check the password rule, then hash the password")

- lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` are the answer: left out of the stub;
- a line ending in ``# SOLUTION`` (or ``# SOLUTION: why``) is a one-line answer: left out;
- ``# STUB code`` is a line of the stub only: ``code`` at the marker's indentation;
- everything else, the ``TODO(task N)`` comments included, is the same in both files.

``stepup teach stubs`` writes ``exercises/`` from ``solutions/`` and pins the result in
``course.toml``; ``tests/meta/test_twins.py`` fails when a committed stub is not what its
solution generates.
"""

import re
from collections.abc import Iterable
from pathlib import Path

from course_kit.kit import KitError
from course_kit.manifest import Course, load_course, pin_stubs

BEGIN = re.compile(r"^\s*# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
ONE_LINE = re.compile(r"\s+# SOLUTION(:.*)?$")
STUB = re.compile(r"^(\s*)# STUB(?: (.*))?$")
TODO = re.compile(r"TODO\(task (\d+)\)")


class MarkerError(KitError):
    """A solution's markers do not pair up: the message names the file and line."""


def stub_of(solution: str, name: str = "solution", solved: Iterable[int] = ()) -> str:
    """The stub that ``solution`` (a solution file's text) generates. With ``solved``, the
    answers of those tasks stay in (a student half-way: the tests of "tasks pass in order")."""
    done = set(solved)
    out: list[str] = []
    opened: int | None = None
    task = 0  # the task of the last TODO(task N) seen: the answers below it are its own
    for number, line in enumerate(solution.splitlines(keepends=True), start=1):
        text = line.rstrip("\n")
        if found := TODO.search(text):
            task = int(found.group(1))
        if BEGIN.match(text):
            if opened is not None:
                raise MarkerError(f"{name}:{number}: BEGIN SOLUTION inside the one at {opened}")
            opened = number
        elif END.match(text):
            if opened is None:
                raise MarkerError(f"{name}:{number}: END SOLUTION without a BEGIN SOLUTION")
            opened = None
        elif opened is not None:
            if task in done:  # the answer stays
                out.append(line)
        elif one_line := ONE_LINE.search(text):
            if task in done:  # the answer stays, without its marker
                out.append(text[: one_line.start()] + "\n")
        elif found := STUB.match(text):
            if task not in done:
                out.append(f"{found.group(1)}{found.group(2) or ''}".rstrip() + "\n")
        else:
            out.append(line)
    if opened is not None:
        raise MarkerError(f"{name}:{opened}: BEGIN SOLUTION is never ended")
    return "".join(out)


def write_stubs(course: Course | None = None, only: list[str] | None = None) -> list[str]:
    """Write ``exercises/`` from ``solutions/`` (every exercise, or the ids in ``only``) and pin
    them; returns the ids whose stub changed."""
    course = course or load_course()
    changed = []
    for exercise in course.exercises:
        if only and exercise.id not in only:
            continue
        solution = course.root / "solutions" / exercise.file
        if not solution.is_file():
            raise KitError(f"solutions/{exercise.file} is missing: nothing to make the stub from")
        stub = stub_of(solution.read_text(encoding="utf-8"), f"solutions/{exercise.file}")
        target: Path = course.root / exercise.path
        if not target.is_file() or target.read_text(encoding="utf-8") != stub:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(stub, encoding="utf-8")
            changed.append(exercise.id)
    pin_stubs(course.root)
    return changed
