"""The course manifest (``course.toml``): exercises in order, their tasks, points and hints."""

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

KIT_ROOT = Path(os.environ.get("STEPUP_KIT_ROOT") or Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Task:
    exercise: str
    n: int
    title: str
    points: int
    hints: tuple[str, ...]
    # graded test name → the hint for when that check fails (else the first hint)
    hint_for: tuple[tuple[str, str], ...] = ()
    # Correctness is judged by hidden tests only: at home a pass means "answered", no points.
    checked_when_graded: bool = False

    @property
    def key(self) -> str:
        return f"{self.exercise}/task{self.n}"

    def hint(self, failing_test: str | None = None) -> str | None:
        """The hint for the check that failed (its name, parameters dropped)."""
        name = (failing_test or "").split("[")[0]
        return dict(self.hint_for).get(name) or (self.hints[0] if self.hints else None)


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    file: str
    notebook: str
    router: bool
    tasks: tuple[Task, ...]
    stub_sha256: str = ""  # the pristine starting stub: "untouched" is judged against it

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)

    def task(self, n: int) -> Task:
        for task in self.tasks:
            if task.n == n:
                return task
        raise KeyError(f"{self.id} has no task {n}")


@dataclass(frozen=True)
class Course:
    title: str
    exercises: tuple[Exercise, ...]

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"no exercise {exercise_id!r} (known: {known})")

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for e in self.exercises for t in e.tasks)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)


def parse(data: dict) -> Course:
    exercises = []
    for entry in data["exercises"]:
        tasks = tuple(
            Task(
                entry["id"],
                t["n"],
                t["title"],
                t["points"],
                tuple(t.get("hints", ())),
                tuple(t.get("hint_for", {}).items()),
                bool(t.get("checked_when_graded", False)),
            )
            for t in entry["tasks"]
        )
        exercises.append(
            Exercise(
                entry["id"],
                entry["title"],
                entry["file"],
                entry["notebook"],
                bool(entry.get("router", False)),
                tasks,
                entry.get("stub_sha256", ""),
            )
        )
    return Course(data["course"]["title"], tuple(exercises))


@cache
def load_course(path: Path = KIT_ROOT / "course.toml") -> Course:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh))


def stub_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pin_stubs(kit_root: Path = KIT_ROOT) -> list[str]:
    """Record the current ``exercises/`` files as the pristine stubs in ``course.toml`` (after
    a deliberate change to a stub); returns the ids whose pin changed."""
    path = kit_root / "course.toml"
    text = path.read_text(encoding="utf-8")
    changed = []
    for exercise in parse(tomllib.loads(text)).exercises:
        digest = stub_digest((kit_root / "exercises" / exercise.file).read_bytes())
        if digest == exercise.stub_sha256:
            continue
        changed.append(exercise.id)
        line = re.compile(rf'(id = "{exercise.id}"\n(?:[^\[]*?\n)*?)stub_sha256 = "[0-9a-f]*"')
        text, count = line.subn(rf'\g<1>stub_sha256 = "{digest}"', text, count=1)
        if not count:
            raise ValueError(f"course.toml: {exercise.id} has no stub_sha256 line to update")
    path.write_text(text, encoding="utf-8")
    return changed
