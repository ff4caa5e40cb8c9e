"""What a class did, counted from its results: pass rates per task, the score distribution, the
tests most often failed, who crashed, hung, left exercises untouched or was flagged, and the
free-text answers side by side. Pure functions of the rows; every figure in the report, its
Markdown summary and its CSVs comes from here, so they cannot disagree.

The rules, as the report states them: a task's pass rate counts the submissions that were
graded (not an error) and whose exercise was changed from the stub (not untouched, not missing);
a file that would not import counts as an attempt that failed. A test counts as failed by a
submission when that submission's exercise was graded and the test did not pass for a reason of
its own (a check, an exception, a timeout, a crash): not when it was skipped because its task
was already lost, and not when a flag voided the exercise.
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from course_kit.teach.grade.results import ExerciseEntry, Results, TestEntry
from course_kit.teach.report.rows import Row
from course_kit.text import one_line

OWN_FAILURES = ("check", "raised", "timeout", "crash")  # causes a test fails by itself
ProblemKind = Literal["not graded", "crash", "timeout", "untouched", "flagged"]
PROBLEM_KINDS: tuple[ProblemKind, ...] = ("not graded", "crash", "timeout", "untouched", "flagged")
Outcome = Literal["all right", "some wrong", "not graded"]
OUTCOMES: tuple[Outcome, ...] = ("all right", "some wrong", "not graded")


@dataclass(frozen=True)
class TaskRate:
    exercise: str
    task: int
    title: str
    points: int
    attempted: int
    passed: int

    @property
    def rate(self) -> float | None:
        """Passed ÷ attempted; None when nobody attempted the task."""
        return self.passed / self.attempted if self.attempted else None

    @property
    def label(self) -> str:
        return f"{self.exercise} task {self.task}"


@dataclass(frozen=True)
class FailedTest:
    nodeid: str
    exercise: str
    task: int
    name: str
    hidden: bool
    first_message: str  # as the first submission (by name) to fail it got it
    submissions: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    submission: str
    exercise: str  # "" for the whole submission
    detail: str


@dataclass(frozen=True)
class AnswerGroup:
    exercise: str
    variable: str
    outcome: Outcome  # how the exercise's scored part went for these submissions
    text: str | None  # the answer as written (the first of the group); None: no answer
    submissions: tuple[str, ...]


@dataclass(frozen=True)
class ClassStats:
    course: str
    max_score: int
    submissions: int
    graded: int  # not an error
    flagged: int
    scores: tuple[int, ...]  # of the graded submissions, by name
    tasks: tuple[TaskRate, ...]
    failed_tests: tuple[FailedTest, ...]  # most often failed first
    problems: tuple[Problem, ...]
    answers: tuple[AnswerGroup, ...]
    unreadable: tuple[str, ...] = field(default=())

    @property
    def errored(self) -> int:
        return self.submissions - self.graded

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    def histogram(self) -> list[tuple[int, int]]:
        """(score, how many graded submissions have it) for every score 0…max."""
        return [(s, self.scores.count(s)) for s in range(self.max_score + 1)]

    def problems_of(self, kind: ProblemKind) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]


def class_stats(rows: list[Row], unreadable: list[str] | None = None) -> ClassStats:
    """The figures of the class ``rows`` (the course's shape is taken from the first row)."""
    shape = rows[0].results
    graded = [r for r in rows if r.results.status == "ok"]
    return ClassStats(
        course=shape.course,
        max_score=shape.max_score,
        submissions=len(rows),
        graded=len(graded),
        flagged=sum(r.results.flagged for r in rows),
        scores=tuple(r.results.score for r in graded),
        tasks=tuple(_task_rates(shape, graded)),
        failed_tests=tuple(_failed_tests(graded)),
        problems=tuple(p for kind in PROBLEM_KINDS for p in _PROBLEMS[kind](rows)),
        answers=tuple(_answers(rows)),
        unreadable=tuple(unreadable or ()),
    )


def _exercise(results: Results, exercise_id: str) -> ExerciseEntry | None:
    return next((e for e in results.exercises if e.id == exercise_id), None)


def _task_rates(shape: Results, graded: list[Row]) -> list[TaskRate]:
    rates = []
    for exercise in shape.exercises:
        for task in exercise.tasks:
            attempted = passed = 0
            for row in graded:
                own = _exercise(row.results, exercise.id)
                if own is None or own.state in ("missing", "untouched"):
                    continue
                attempted += 1
                passed += any(t.n == task.n and t.passed for t in own.tasks)
            rates.append(TaskRate(exercise.id, task.n, task.title, task.points, attempted, passed))
    return rates


def _failed_tests(graded: list[Row]) -> list[FailedTest]:
    failed: dict[str, list[tuple[str, TestEntry]]] = {}
    order: list[str] = []  # first seen, course order within a row
    for row in graded:
        states = {e.id: e.state for e in row.results.exercises}
        for test in row.results.tests:
            own_failure = test.status != "pass" and test.cause in OWN_FAILURES
            if own_failure and states.get(test.exercise) == "graded":
                if test.nodeid not in failed:
                    order.append(test.nodeid)
                failed.setdefault(test.nodeid, []).append((row.label, test))
    tests = []
    for nodeid in order:
        hits = failed[nodeid]
        first = hits[0][1]
        tests.append(
            FailedTest(
                nodeid=nodeid,
                exercise=first.exercise,
                task=first.task,
                name=first.name,
                hidden=first.visibility == "hidden",
                first_message=one_line(first.message or first.status),
                submissions=tuple(label for label, _ in hits),
            )
        )
    return sorted(tests, key=lambda t: -len(t.submissions))  # stable: ties keep course order


def _not_graded(rows: list[Row]) -> list[Problem]:
    return [
        Problem("not graded", r.label, "", one_line(r.results.message))
        for r in rows
        if r.results.status == "error"
    ]


def _crashes(rows: list[Row]) -> list[Problem]:
    """A file that would not import, or a submission process that died during a test (an
    exercise voided by a flag is listed with the flags instead)."""
    found = []
    for row in rows:
        flagged = {f.exercise for f in row.results.flags}  # listed as flagged, not as crashes
        for exercise in row.results.exercises:
            if exercise.id in flagged or None in flagged:
                continue
            if exercise.state == "broken":
                found.append(Problem("crash", row.label, exercise.id, one_line(exercise.message)))
                continue
            died = _own(row.results, exercise.id, lambda t: t.cause == "crash")
            if died:
                found.append(Problem("crash", row.label, exercise.id, _first(died, "died")))
    return found


def _timeouts(rows: list[Row]) -> list[Problem]:
    found = []
    for row in rows:
        for exercise in row.results.exercises:
            late = _own(row.results, exercise.id, lambda t: t.status == "timeout")
            if late and exercise.state == "graded":
                found.append(
                    Problem("timeout", row.label, exercise.id, _first(late, "out of time"))
                )
    return found


def _untouched(rows: list[Row]) -> list[Problem]:
    found = []
    for row in rows:
        if row.results.status == "error":
            continue  # already listed as not graded
        for exercise in row.results.exercises:
            if exercise.state in ("untouched", "missing"):
                said = "the starting stub, unchanged" if exercise.state == "untouched" else ""
                detail = said or "not in the submission"
                found.append(Problem("untouched", row.label, exercise.id, detail))
    return found


def _flags(rows: list[Row]) -> list[Problem]:
    return [
        Problem("flagged", r.label, f.exercise or "", one_line(f.reason))
        for r in rows
        for f in r.results.flags
    ]


_PROBLEMS: dict[ProblemKind, Callable[[list[Row]], list[Problem]]] = {
    "not graded": _not_graded,
    "crash": _crashes,
    "timeout": _timeouts,
    "untouched": _untouched,
    "flagged": _flags,
}


def _own(results: Results, exercise_id: str, which: Callable[[TestEntry], bool]) -> list[TestEntry]:
    return [t for t in results.tests if t.exercise == exercise_id and which(t)]


def _first(tests: list[TestEntry], what: str) -> str:
    """``2 tests out of time: first test_x: did not finish within 10 s``."""
    count = "1 test" if len(tests) == 1 else f"{len(tests)} tests"
    return one_line(f"{count} {what}: first {tests[0].name}: {tests[0].message}")


def _answers(rows: list[Row]) -> list[AnswerGroup]:
    """Free-text answers per question, grouped by how the exercise's scored part went, then
    by text (the same words, whatever the spacing or case, are one group)."""
    groups: dict[tuple[str, str, Outcome, str], list[tuple[str, str | None]]] = {}
    for row in rows:
        for answer in row.results.free_text:
            exercise = _exercise(row.results, answer.exercise)
            outcome = _outcome(row.results, exercise)
            text = None if outcome == "not graded" and _untouched_stub(exercise) else answer.text
            key = (answer.exercise, answer.variable, outcome, _normal(text))
            groups.setdefault(key, []).append((row.label, text))
    found = [
        AnswerGroup(exercise, variable, outcome, members[0][1], tuple(m[0] for m in members))
        for (exercise, variable, outcome, _), members in groups.items()
    ]
    return sorted(
        found,
        key=lambda g: (g.exercise, g.variable, OUTCOMES.index(g.outcome), -len(g.submissions)),
    )


def _outcome(results: Results, exercise: ExerciseEntry | None) -> Outcome:
    if results.status == "error" or exercise is None or exercise.state != "graded":
        return "not graded"
    return "all right" if exercise.score == exercise.max_score else "some wrong"


def _untouched_stub(exercise: ExerciseEntry | None) -> bool:
    """The stub's placeholder text is nobody's answer."""
    return exercise is not None and exercise.state == "untouched"


def _normal(text: str | None) -> str:
    return " ".join(text.split()).casefold() if text else ""
