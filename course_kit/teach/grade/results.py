"""The canonical results file (``stepup-results.json``): everything one grading run found, from
which every other format (Gradescope, Exercism, JUnit, Markdown) is derived.

Typed models, so the file's JSON Schema is generated from them (:func:`schema`) rather than
written by hand. Per test: exercise, task, name, status, points, message, visibility,
duration, and why it failed. A task's points are earned only when every one of its tests
passed; each test carries an even share of its task's points (``max_points``), and ``points``
is that share when the whole task passed.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from course_kit.grading.outcome import Cause, Flag, Score, Status, TestResult, Visibility
from course_kit.manifest import Course
from course_kit.manifest import Visibility as Shown
from course_kit.text import readable

SCHEMA_ID: Final = "stepup-results/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _readable(cls, value: Any) -> Any:
        """Every text, wherever it came from (a student's exception, a folder's name), safe
        in every format written from it: JSON, XML, Markdown, CSV, a terminal."""
        return _clean(value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class RaisedEntry(_Model):
    type: str
    at: str
    message: str


class TestEntry(_Model):
    exercise: str
    task: int
    name: str
    nodeid: str
    status: Status
    cause: Cause = ""
    raised: RaisedEntry | None = None
    points: float = Field(ge=0)
    max_points: float = Field(ge=0)
    message: str
    visibility: Visibility
    duration: float = Field(ge=0)


class TaskEntry(_Model):
    n: int
    title: str
    points: int = Field(ge=0)
    earned: int = Field(ge=0)
    passed: bool
    first_failure: str | None = None  # safe to show the student: a hidden test is not named


# What became of an exercise's file: graded, not in the submission, the starting stub as it
# was handed out, or a file Python could not import.
ExerciseState = Literal["graded", "missing", "untouched", "broken"]


class ExerciseEntry(_Model):
    id: str
    title: str
    file: str
    submitted: bool
    state: ExerciseState = "graded"
    visibility: Shown = "visible"  # when students see its results (course.toml)
    score: int = Field(ge=0)
    max_score: int = Field(ge=0)
    message: str
    tasks: list[TaskEntry]


class FlagEntry(_Model):
    exercise: str | None
    reason: str


class FreeText(_Model):
    exercise: str
    variable: str
    text: str | None


class Results(_Model):
    schema_: Literal["stepup-results/1"] = Field(SCHEMA_ID, alias="schema")
    course: str
    submission: str
    graded_at: str
    status: Literal["ok", "error"]
    message: str
    flagged: bool
    flags: list[FlagEntry]
    score: int = Field(ge=0)
    max_score: int = Field(ge=0)
    execution_time: float = Field(ge=0)
    exercises: list[ExerciseEntry]
    tests: list[TestEntry]
    free_text: list[FreeText]
    notes: list[str]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, by_alias=True) + "\n"

    def exercise(self, exercise_id: str) -> ExerciseEntry:
        return next(e for e in self.exercises if e.id == exercise_id)


def schema() -> dict[str, Any]:
    """The JSON Schema every ``stepup-results.json`` validates against."""
    return Results.model_json_schema(by_alias=True)


def failed(
    course: Course, submission: str, error: str, execution_time: float, **known: Any
) -> Results:
    """The results of a submission nothing could be graded in (``known`` may add what was
    learnt before it failed: submitted files, free text, messages, notes)."""
    empty: dict[str, Any] = {
        "submitted": set(),
        "exercise_messages": {},
        "free_text": [],
        "notes": [],
    }
    return build(
        course=course,
        submission=submission,
        score=None,
        results=[],
        flags=[],
        execution_time=execution_time,
        error=error,
        **(empty | known),
    )


def build(
    *,
    course: Course,
    submission: str,
    score: Score | None,
    results: list[TestResult],
    submitted: set[str],
    exercise_messages: dict[str, str],
    flags: Iterable[Flag],
    free_text: list[FreeText],
    notes: list[str],
    execution_time: float,
    error: str | None = None,
    states: dict[str, ExerciseState] | None = None,
) -> Results:
    """Assemble the results. ``error``: nothing could be graded, and why. ``states``: the
    exercises that are not simply graded (or missing, when not submitted)."""
    tests: list[TestEntry] = []
    exercises: list[ExerciseEntry] = []
    for exercise in course.exercises:
        tasks = []
        for task in exercise.tasks:
            task_score = score.task(exercise.id, task.n) if score is not None else None
            own = [r for r in results if r.exercise == exercise.id and r.task == task.n]
            share = round(task.points / len(own), 4) if own else 0
            passed = bool(task_score and task_score.passed)
            tests += [_entry(r, exercise.id, task.n, share, passed) for r in own]
            failure = task_score.first_failure if task_score else None
            tasks.append(
                TaskEntry(
                    n=task.n,
                    title=task.title,
                    points=task.points,
                    earned=task.points if passed else 0,
                    passed=passed,
                    first_failure=_failure_text(failure, exercise_messages.get(exercise.id)),
                )
            )
        exercises.append(
            ExerciseEntry(
                id=exercise.id,
                title=exercise.title,
                file=str(exercise.path),
                submitted=exercise.id in submitted,
                state=(states or {}).get(
                    exercise.id, "graded" if exercise.id in submitted else "missing"
                ),
                visibility=exercise.visibility,
                score=sum(t.earned for t in tasks),
                max_score=exercise.points,
                message=exercise_messages.get(exercise.id, ""),
                tasks=tasks,
            )
        )
    flag_entries = [FlagEntry(exercise=f.exercise, reason=f.reason) for f in flags]
    return Results(
        course=course.title,
        submission=submission,
        graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        status="error" if error else "ok",
        message=error or "",
        flagged=bool(flag_entries),
        flags=flag_entries,
        score=sum(e.score for e in exercises),
        max_score=course.points,
        execution_time=round(execution_time, 3),
        exercises=exercises,
        tests=tests,
        free_text=free_text,
        notes=notes,
    )


def _entry(result: TestResult, exercise: str, task: int, share: float, passed: bool) -> TestEntry:
    raised = result.raised
    return TestEntry(
        exercise=exercise,
        task=task,
        name=result.name,
        nodeid=result.nodeid,
        status=result.status,
        cause=result.cause,
        raised=RaisedEntry(type=raised.type, at=raised.at, message=raised.message)
        if raised
        else None,
        points=share if passed else 0,
        max_points=share,
        message=result.message,
        visibility=result.visibility,
        duration=result.duration,
    )


def _failure_text(failure: TestResult | None, fallback: str | None) -> str | None:
    if failure is None:
        return fallback or None
    text = failure.message or failure.status
    return f"{failure.name}: {text}" if failure.visibility == "visible" else "a hidden test failed"
