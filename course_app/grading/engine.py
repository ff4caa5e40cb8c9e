"""Run the graded tests against an implementation in a child process and score them.

The child process imports the student's code; this process only reads the JSON the reporter
plugin wrote, so a crashing or hanging submission cannot take the checker down with it.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_app.grading.reporter import RESULTS_ENV
from course_app.manifest import KIT_ROOT, Course, Task, load_course


@dataclass
class TestResult:
    nodeid: str
    name: str
    exercise: str | None
    task: int | None
    status: str  # pass | fail | error | timeout | skipped | not run
    message: str = ""
    duration: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TestResult":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass
class TaskScore:
    task: Task
    results: list[TestResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.status == "pass" for r in self.results)

    @property
    def earned(self) -> int:
        return self.task.points if self.passed else 0

    @property
    def first_failure(self) -> TestResult | None:
        return next((r for r in self.results if r.status != "pass"), None)


@dataclass
class Score:
    tasks: list[TaskScore]
    problems: list[str] = field(default_factory=list)

    @property
    def earned(self) -> int:
        return sum(t.earned for t in self.tasks)

    @property
    def possible(self) -> int:
        return sum(t.task.points for t in self.tasks)

    def exercise_points(self, exercise_id: str) -> int:
        return sum(t.earned for t in self.tasks if t.task.exercise == exercise_id)

    def task(self, exercise_id: str, n: int) -> TaskScore:
        return next(t for t in self.tasks if t.task.exercise == exercise_id and t.task.n == n)


def graded_files(kit_root: Path, exercise_ids: Sequence[str]) -> list[Path]:
    folder = kit_root / "tests" / "graded"
    return [p for e in exercise_ids for p in sorted(folder.glob(f"test_{e}_*.py"))]


def run_tests(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    kit_root: Path = KIT_ROOT,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> tuple[list[TestResult], str]:
    """Run the graded tests; return per-test results and pytest's (capped) output."""
    course = load_course()
    ids = list(exercise_ids or [e.id for e in course.exercises])
    with tempfile.TemporaryDirectory(prefix="stepup-results-") as tmp:
        results_file = Path(tmp) / "results.json"
        child_env = (env if env is not None else dict(os.environ)) | {
            RESULTS_ENV: str(results_file),
            "STEPUP_KIT_ROOT": str(kit_root),
            "PYTHONPATH": str(kit_root),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "-p",
            "no:cacheprovider",
            "-p",
            "course_app.grading.reporter",
            f"--impl={impl_folder}",
            *map(str, graded_files(kit_root, ids)),
        ]
        try:
            proc = subprocess.run(
                command,
                cwd=kit_root,
                env=child_env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            output = proc.stdout[-20000:] + proc.stderr[-5000:]
        except subprocess.TimeoutExpired:
            output = f"the graded tests did not finish within {timeout:.0f} s"
        if not results_file.exists():
            return [], output
        data = json.loads(results_file.read_text(encoding="utf-8"))
    return [TestResult.from_json(d) for d in data], output


def score(
    results: Sequence[TestResult],
    exercise_ids: Sequence[str] | None = None,
    course: Course | None = None,
) -> Score:
    """Points per task: a task is earned only when every one of its tests passed."""
    course = course or load_course()
    ids = set(exercise_ids or [e.id for e in course.exercises])
    tasks = [
        TaskScore(t, [r for r in results if r.exercise == t.exercise and r.task == t.n])
        for t in course.tasks
        if t.exercise in ids
    ]
    problems = [f"{t.task.key} has no graded test" for t in tasks if not t.results]
    return Score(tasks, problems)


def check(
    impl_folder: Path, exercise_ids: Sequence[str] | None = None, kit_root: Path = KIT_ROOT
) -> tuple[Score, str]:
    results, output = run_tests(impl_folder, exercise_ids, kit_root)
    result = score(results, exercise_ids)
    if not results:
        result.problems.append("the graded tests did not run:\n" + output[-2000:])
    return result, output
