"""The canonical results file (``stepup-results.json``): everything one grading run found, from
which every other format (Gradescope, Exercism, JUnit, Markdown) is derived.

Per test: exercise, task, name, status, points, message, visibility, duration. A task's points
are earned only when every one of its tests passed; each test carries an even share of its
task's points (``max_points``), and ``points`` is that share when the whole task passed.
"""

from datetime import UTC, datetime
from typing import Any

from course_app.grading.engine import Flag, Score, TestResult
from course_app.manifest import Course

SCHEMA_ID = "stepup-results/1"
STATUSES = ("pass", "fail", "error", "timeout", "skipped")

_string = {"type": "string"}
_number = {"type": "number", "minimum": 0}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Step-Up Auth Lab grading results",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema",
        "course",
        "submission",
        "graded_at",
        "status",
        "message",
        "flagged",
        "flags",
        "score",
        "max_score",
        "execution_time",
        "exercises",
        "tests",
        "free_text",
        "notes",
    ],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "course": _string,
        "submission": _string,
        "graded_at": _string,
        "status": {"enum": ["ok", "error"]},
        "message": _string,
        "flagged": {"type": "boolean"},
        "flags": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["exercise", "reason"],
                "properties": {"exercise": {"type": ["string", "null"]}, "reason": _string},
            },
        },
        "score": _number,
        "max_score": _number,
        "execution_time": _number,
        "exercises": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title", "file", "submitted", "score", "max_score", "message"],
                "properties": {
                    "id": _string,
                    "title": _string,
                    "file": _string,
                    "submitted": {"type": "boolean"},
                    "score": _number,
                    "max_score": _number,
                    "message": _string,
                    "tasks": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["n", "title", "points", "earned", "passed"],
                            "properties": {
                                "n": {"type": "integer"},
                                "title": _string,
                                "points": _number,
                                "earned": _number,
                                "passed": {"type": "boolean"},
                                "first_failure": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "exercise",
                    "task",
                    "name",
                    "nodeid",
                    "status",
                    "points",
                    "max_points",
                    "message",
                    "visibility",
                    "duration",
                ],
                "properties": {
                    "exercise": _string,
                    "task": {"type": "integer"},
                    "name": _string,
                    "nodeid": _string,
                    "status": {"enum": list(STATUSES)},
                    "points": _number,
                    "max_points": _number,
                    "message": _string,
                    "visibility": {"enum": ["visible", "hidden"]},
                    "duration": _number,
                },
            },
        },
        "free_text": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["exercise", "variable", "text"],
                "properties": {
                    "exercise": _string,
                    "variable": _string,
                    "text": {"type": ["string", "null"]},
                },
            },
        },
        "notes": {"type": "array", "items": _string},
    },
}


def failed(
    course: Course, submission: str, error: str, execution_time: float, **known: Any
) -> dict[str, Any]:
    """The canonical dict for a submission nothing could be graded in (``known`` may add what
    was learnt before it failed: submitted files, free text, messages, notes)."""
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
    flags: list[Flag],
    free_text: list[dict[str, Any]],
    notes: list[str],
    execution_time: float,
    error: str | None = None,
) -> dict[str, Any]:
    """Assemble the canonical dict. ``error``: nothing could be graded, and why."""
    tests = []
    exercises = []
    for exercise in course.exercises:
        tasks = []
        for task in exercise.tasks:
            task_score = score.task(exercise.id, task.n) if score is not None else None
            own = [r for r in results if r.exercise == exercise.id and r.task == task.n]
            share = round(task.points / len(own), 4) if own else 0
            passed = bool(task_score and task_score.passed)
            for r in own:
                tests.append(
                    {
                        "exercise": exercise.id,
                        "task": task.n,
                        "name": r.name,
                        "nodeid": r.nodeid,
                        "status": r.status,
                        "points": share if passed else 0,
                        "max_points": share,
                        "message": r.message,
                        "visibility": r.visibility,
                        "duration": r.duration,
                    }
                )
            failure = task_score.first_failure if task_score else None
            tasks.append(
                {
                    "n": task.n,
                    "title": task.title,
                    "points": task.points,
                    "earned": task.points if passed else 0,
                    "passed": passed,
                    "first_failure": _failure_text(failure, exercise_messages.get(exercise.id)),
                }
            )
        exercises.append(
            {
                "id": exercise.id,
                "title": exercise.title,
                "file": f"exercises/{exercise.file}",
                "submitted": exercise.id in submitted,
                "score": sum(t["earned"] for t in tasks),
                "max_score": exercise.points,
                "message": exercise_messages.get(exercise.id, ""),
                "tasks": tasks,
            }
        )
    return {
        "schema": SCHEMA_ID,
        "course": course.title,
        "submission": submission,
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "error" if error else "ok",
        "message": error or "",
        "flagged": bool(flags),
        "flags": [{"exercise": f.exercise, "reason": f.reason} for f in flags],
        "score": sum(e["score"] for e in exercises),
        "max_score": course.points,
        "execution_time": round(execution_time, 3),
        "exercises": exercises,
        "tests": tests,
        "free_text": free_text,
        "notes": notes,
    }


def _failure_text(failure: TestResult | None, fallback: str | None) -> str | None:
    if failure is None:
        return fallback or None
    text = failure.message or failure.status
    return f"{failure.name}: {text}" if failure.visibility == "visible" else "a hidden test failed"
