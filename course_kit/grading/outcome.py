"""What a graded run found, as data: per test a status and why, per task the points.

A failure says *why* in fields, never in words to be matched: ``cause`` tells a failed check
from an exception in the student's code (``raised`` then names it), a test out of time, a
submission process that died, a file that could not be used, or tampering.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from course_kit.grading.sandbox.protocol import Raised
from course_kit.manifest import Course, Task

Status = Literal["pass", "fail", "error", "timeout", "skipped"]
Cause = Literal["check", "raised", "timeout", "crash", "broken", "flagged", "not_run", ""]
Visibility = Literal["visible", "hidden"]


@dataclass
class TestResult:
    nodeid: str
    name: str
    exercise: str | None
    task: int | None
    status: Status
    message: str = ""
    duration: float = 0.0
    visibility: Visibility = "visible"
    cause: Cause = ""  # why it did not pass ("" when it did)
    raised: Raised | None = None  # cause "raised": the student's exception

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "TestResult":
        raised = event.pop("raised", None)
        return cls(**event, raised=Raised.from_wire(raised) if raised else None)


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
    peak_memory: int | None = None  # bytes, the run's whole process tree (with cgroups)
    memory_budget: int | None = None  # bytes: every judge's budget and every submission's

    def merge(self, other: "RunOutcome") -> None:
        """Add what another judge found (its exercises are not this one's)."""
        self.results += other.results
        self.flags += other.flags
        self.problems += [p for p in other.problems if p not in self.problems]
        self.output = "\n".join(o for o in (self.output, other.output) if o)
        self.listed += other.listed
        self.import_errors |= other.import_errors
        self.confinement = self.confinement or other.confinement


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


def score(
    results: Sequence[TestResult], course: Course, exercise_ids: Sequence[str] | None = None
) -> Score:
    """Points per task: a task is earned only when every one of its tests passed."""
    ids = set(exercise_ids or course.ids)
    tasks = [
        TaskScore(t, [r for r in results if r.exercise == t.exercise and r.task == t.n])
        for t in course.tasks
        if t.exercise in ids
    ]
    problems = [f"{t.task.key} has no graded test" for t in tasks if not t.results]
    return Score(tasks, problems)
