"""The course manifest (``course.toml``): exercises in order, their tasks, points and hints."""

import os
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

    @property
    def key(self) -> str:
        return f"{self.exercise}/task{self.n}"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    file: str
    notebook: str
    router: bool
    tasks: tuple[Task, ...]

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
            Task(entry["id"], t["n"], t["title"], t["points"], tuple(t.get("hints", ())))
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
            )
        )
    return Course(data["course"]["title"], tuple(exercises))


@cache
def load_course(path: Path = KIT_ROOT / "course.toml") -> Course:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh))
