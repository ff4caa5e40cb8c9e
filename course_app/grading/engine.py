"""Run the graded tests against an implementation and score them, task by task.

One engine for everyone: ``stepup check`` (a student at home), ``stepup grade`` (the instructor)
and the maintainers' both-directions test all call :func:`run_graded`. It starts the judge
(:mod:`course_app.grading.judge`, pytest over the graded tests) as a child process that never
imports the code under test; the judge drives one confined submission process
(:mod:`course_app.grading.subject`). This process only reads what the judge wrote into a file
the submission cannot reach, and enforces the overall time limit on both.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from course_app.grading.config import Limits, load_config
from course_app.grading.subject import scratch_root
from course_app.manifest import KIT_ROOT, Course, Task, load_course

__all__ = ["Score", "TaskScore", "TestResult", "check", "run_graded", "run_tests", "score"]


@dataclass
class TestResult:
    nodeid: str
    name: str
    exercise: str | None
    task: int | None
    status: str  # pass | fail | error | timeout | skipped
    message: str = ""
    duration: float = 0.0
    visibility: str = "visible"


@dataclass(frozen=True)
class Flag:
    """Something the instructor should look at; the exercise it concerns earned nothing."""

    exercise: str | None
    reason: str


@dataclass
class RunOutcome:
    results: list[TestResult]
    flags: list[Flag] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    output: str = ""
    listed: list[dict[str, Any]] = field(default_factory=list)  # every collected test
    import_errors: dict[str, str] = field(default_factory=dict)  # exercise → why it broke
    confinement: str = ""


@dataclass
class TaskScore:
    task: Task
    results: list[TestResult]
    deferred: bool = False  # at home, for a task only the hidden tests can judge: no points

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.status == "pass" for r in self.results)

    @property
    def earned(self) -> int:
        return self.task.points if self.passed and not self.deferred else 0

    @property
    def first_failure(self) -> TestResult | None:
        return next((r for r in self.results if r.status != "pass"), None)


@dataclass
class Score:
    tasks: list[TaskScore]
    problems: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

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


def course_at(kit_root: Path) -> Course:
    return load_course(kit_root / "course.toml")


def graded_files(kit_root: Path, exercise_ids: Sequence[str]) -> list[Path]:
    folder = kit_root / "tests" / "graded"
    return [p for e in exercise_ids for p in sorted(folder.glob(f"test_{e}_*.py"))]


def run_graded(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    kit_root: Path = KIT_ROOT,
    *,
    run_ids: Sequence[str] | None = None,
    include_hidden: bool = False,
    limits: Limits | None = None,
) -> RunOutcome:
    """List the graded tests of ``exercise_ids`` (all by default) and run those of ``run_ids``
    (the same by default) against ``impl_folder``; hidden tests only when ``include_hidden``."""
    course = course_at(kit_root)
    config = load_config(kit_root)
    limits = limits or config.limits
    ids = list(exercise_ids or [e.id for e in course.exercises])
    run = [e for e in (run_ids if run_ids is not None else ids) if e in ids]
    # The grader's own folder; the judge makes the submission process's folders inside it,
    # so whatever happens to the judge, one rmtree here cleans everything up.
    private = Path(tempfile.mkdtemp(prefix="stepup-judge-", dir=scratch_root()))
    private.chmod(0o711)  # a confined process as another user may pass through to its folder
    out = private / "judge.jsonl"
    command = [sys.executable, "-m", "course_app.grading", f"--impl={impl_folder}"]
    command += [f"--out={out}", f"--collect={','.join(ids)}", f"--run={','.join(run)}"]
    command += [f"--limits={json.dumps(asdict(limits))}"]
    if include_hidden:
        command.append(f"--hidden={config.hidden_dir}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPUP_", "PYTEST_", "COV"))}
    env |= {
        "STEPUP_WORK_ROOT": str(private),
        "PYTHONPATH": str(kit_root),
        "STEPUP_KIT_ROOT": str(kit_root),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # third-party plugins cost seconds to load
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    problems: list[str] = []
    try:
        with os.fdopen(
            os.open(private / "judge.log", os.O_WRONLY | os.O_CREAT, 0o600), "wb"
        ) as log:
            judge = subprocess.Popen(
                command,
                cwd=kit_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                judge.wait(timeout=limits.overall_timeout)
            except subprocess.TimeoutExpired:
                problems.append(
                    f"the overall time limit of {limits.overall_timeout:g} s was reached"
                )
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(judge.pid, signal.SIGKILL)  # the submission process dies with it
                judge.wait()
        outcome = read_outcome(out, course, run, problems)
        if not outcome.listed:
            log_text = (private / "judge.log").read_text(encoding="utf-8", errors="replace")
            outcome.problems.append("the graded tests did not run:\n" + log_text[-2000:])
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return outcome


def read_outcome(path: Path, course: Course, run: list[str], problems: list[str]) -> RunOutcome:
    """Turn the judge's lines into an outcome; a test that never reported did not pass."""
    outcome = RunOutcome([], problems=problems)
    results: dict[str, TestResult] = {}
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for line in text.splitlines():
        event = json.loads(line)
        kind = event.pop("event")
        if kind == "collected":
            outcome.listed = event["tests"]
        elif kind == "result":
            results[event["nodeid"]] = TestResult(**event)
        elif kind == "subject":
            outcome.import_errors = event["broken"]
            outcome.output = event["output"]
            outcome.confinement = event["confinement"]
            outcome.flags += [
                Flag(exercise, f"the submission wrote {what} on the grader's channel")
                for exercise, what in event["violations"]
            ]
    order = [e.id for e in course.exercises]
    why = "not run: " + (problems[0] if problems else "no result was reported for this test")
    for test in outcome.listed:
        if test["exercise"] in run and test["nodeid"] not in results:
            results[test["nodeid"]] = TestResult(
                **test, status="timeout" if problems else "error", message=why
            )
    ran = [r for r in results.values() if r.status != "not run"]
    for flag in outcome.flags:  # tampering earns nothing: the exercise, or all if unknown
        for result in results.values():
            if flag.exercise in (None, result.exercise):
                result.status = "error"
                result.message = f"not graded: {flag.reason} (flagged for the instructor)"
    outcome.results = sorted(
        ran, key=lambda r: order.index(r.exercise) if r.exercise in order else 99
    )
    return outcome


def run_tests(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    kit_root: Path = KIT_ROOT,
    include_hidden: bool = True,
) -> tuple[list[TestResult], str]:
    """Every graded test (hidden ones too) → per-test results and the children's output."""
    outcome = run_graded(impl_folder, exercise_ids, kit_root, include_hidden=include_hidden)
    problems = "".join(f"\n! {p}" for p in outcome.problems + [f.reason for f in outcome.flags])
    return outcome.results, outcome.output + problems


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
    """The student's self-check: the visible graded tests, under the grader's own limits."""
    outcome = run_graded(impl_folder, exercise_ids, kit_root)
    result = score(outcome.results, exercise_ids, course_at(kit_root))
    for task_score in result.tasks:
        task_score.deferred = task_score.task.checked_when_graded
    result.flags = outcome.flags
    result.problems += outcome.problems
    if not outcome.results and not outcome.problems:
        result.problems.append("the graded tests did not run:\n" + outcome.output[-2000:])
    return result, outcome.output
