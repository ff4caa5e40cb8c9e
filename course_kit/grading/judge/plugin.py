"""The judge's pytest plugin: the graded tests' fixtures and rules, and the collector that
reports every outcome to the grader.

The student's code never runs in this process. ``--impl`` names the exercise files; a
submission process (:mod:`course_kit.grading.sandbox.process`) imports them once per run and
serves the app over a Unix socket; each test resets it, and a test that hangs or crashes it
gets a fresh one. One rule for time: a test that takes longer than the per-test limit is a
timeout, whether its requests were cut short or it passed late.

``tests/graded/conftest.py`` re-exports the hooks and fixtures (so ``pytest tests/graded``
works on its own); the judge (``python -m course_kit.grading.judge``) adds the
:class:`Collector`, which writes one JSON line per event into a file of the grader's that the
submission process cannot reach: every collected test, then one result per test as it ends (so
an overall timeout still leaves the finished ones), then what it learnt about the submission.
"""

import json
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from course_kit.grading.judge.expect import RouteCrashed
from course_kit.grading.judge.failures import (
    ExerciseBroken,
    ProtocolViolation,
    SubjectError,
    SubjectTimeout,
)
from course_kit.grading.judge.remote import SUBJECT, Clocks, RemoteLab, Student, StudentRaised
from course_kit.grading.judge.subject import KEPT, PRELAUNCHED, Subject, real_monotonic
from course_kit.impl import ImplementationError, resolve
from course_kit.manifest import Limits, load_course
from course_kit.text import printable
from course_kit.timetravel import START, frozen_clock

STARTED = pytest.StashKey[float]()
LOST = pytest.StashKey[dict[tuple[str, int], str]]()
VERDICT = "stepup"  # the user_properties key of a test's verdict (status, cause, message, raised)


# --- options and the submission process ------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("step-up lab grading")
    group.addoption("--stepup-exercises", default="", help="exercise ids to load (default all)")
    group.addoption("--stepup-limits", default="", help="grading limits as JSON (course.toml)")


def limits_of(config: pytest.Config) -> Limits:
    given = config.getoption("--stepup-limits")
    return Limits.model_validate_json(given) if given else load_course().grading.limits


def pytest_configure(config: pytest.Config) -> None:
    """Start the submission process now: it boots while pytest collects."""
    chosen = config.getoption("--stepup-exercises")
    ids = chosen.split(",") if chosen else load_course().ids
    if KEPT:  # stepup watch's judge: one process for every check, closed by the judge
        subject = KEPT[0]
    else:
        if PRELAUNCHED:  # started before pytest loaded (python -m course_kit.grading.judge)
            subject = PRELAUNCHED.pop()
        else:
            try:
                folder = resolve(config.getoption("--impl")).folder
            except ImplementationError as exc:
                raise pytest.UsageError(str(exc)) from None
            subject = Subject(folder, [] if ids == ["-"] else ids, limits_of(config))
            if ids != ["-"]:  # "-": the judge only lists the tests
                subject.launch()
        config.add_cleanup(subject.close)
    config.stash[SUBJECT] = subject
    config.stash[LOST] = {}


@pytest.fixture(scope="session")
def subject(pytestconfig: pytest.Config) -> Subject:
    return pytestconfig.stash[SUBJECT]


@pytest.fixture(autouse=True)
def budget(subject: Subject, request: pytest.FixtureRequest) -> Iterator[None]:
    """The test's time starts once a booted process is there; every wait shares it."""
    task = task_of(request.node)
    lost = request.config.stash[LOST]
    if task in lost:
        pytest.skip(f"not run: the task was already lost ({lost[task]})")
    subject.usable()
    request.node.stash[STARTED] = real_monotonic()
    subject.deadline = request.node.stash[STARTED] + subject.limits.per_test_timeout
    yield
    subject.deadline = None


def task_of(item: pytest.Item) -> tuple[str, int] | None:
    marker = item.get_closest_marker("task")
    return (marker.args[0], marker.args[1]) if marker else None


# --- the verdict of each test ------------------------------------------------------------------


def verdict(error: BaseException | None, late: bool, limit: float) -> dict[str, Any] | None:
    """Why a test failed, as fields: status, cause, message and the student's exception."""
    if isinstance(error, ExerciseBroken):  # the file could not be used: no fresh process helps
        return {"status": error.status, "cause": "broken", "message": str(error)}
    if isinstance(error, SubjectTimeout) or (late and error is None):
        text = str(error) if error else f"did not finish within {limit:g} s (the test's time limit)"
        return {"status": "timeout", "cause": "timeout", "message": text}
    if isinstance(error, ProtocolViolation):
        return {"status": "error", "cause": "flagged", "message": str(error)}
    if isinstance(error, SubjectError):  # it died, or answered what no app answers
        return {"status": "error", "cause": "crash", "message": str(error)}
    if isinstance(error, StudentRaised | RouteCrashed):
        raised = error.raised.to_wire()["raised"]
        return {"status": "fail", "cause": "raised", "message": str(error), "raised": raised}
    if isinstance(error, AssertionError):
        return {"status": "fail", "cause": "check", "message": str(error)}
    if isinstance(error, pytest.skip.Exception):
        return None
    if error is not None:  # the graded test itself broke: say what, as pytest would
        return {"status": "error", "cause": "check", "message": f"{type(error).__name__}: {error}"}
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each test's verdict; a test that ran past its limit is a timeout even if it
    passed; after a hang or a crash the next test gets a fresh process."""
    report = yield
    subject = item.config.stash[SUBJECT]
    error = call.excinfo.value if call.excinfo else None
    started = item.stash.get(STARTED, None)
    limit = subject.limits.per_test_timeout
    late = call.when == "call" and started is not None and real_monotonic() - started > limit
    found = verdict(error, late, limit)
    if found is None:
        return report
    if found["status"] == "timeout" and not report.failed:
        report.outcome = "failed"
        report.longrepr = found["message"]
    report.user_properties.append((VERDICT, found))
    if found["cause"] in ("timeout", "crash", "flagged"):
        subject.stop()  # whatever it is doing, the next test gets a fresh process
        task = task_of(item)
        if task is not None:
            item.config.stash[LOST][task] = item.name
    return report


# --- clocks, labs and students -----------------------------------------------------------------


@pytest.fixture(scope="module")
def judge_clock() -> Iterator[FrozenDateTimeFactory]:
    """The judge's own clock, frozen (once per module: a freeze costs milliseconds, a move
    microseconds) so that what the judge writes and its reference app agree with the
    submission's clock."""
    with frozen_clock() as frozen:
        yield frozen


@pytest.fixture
def clock(subject: Subject, judge_clock: FrozenDateTimeFactory) -> Clocks:
    """``clock.tick(seconds)`` moves both frozen clocks, the submission's and the judge's."""
    judge_clock.move_to(START)
    return Clocks(subject, judge_clock)


@pytest.fixture
def make_lab(subject: Subject, clock: Clocks) -> Callable[[str], RemoteLab]:
    """``make_lab("ex01")``: the student's app mounting that exercise, reset for this test."""

    def make(exercise: str) -> RemoteLab:
        subject.check_usable(exercise)
        Student.reply(subject.command("reset"))
        return RemoteLab.of(subject, exercise)

    return make


@pytest.fixture
def student_of(subject: Subject, clock: Clocks) -> Callable[[str], Student]:
    """``student_of("ex03")``: calls into that exercise file, in the submission process."""

    def make(exercise: str) -> Student:
        Student.reply(subject.command("reset"))
        return Student(subject, exercise)  # fails as one if the exercise's file is unusable

    return make


# --- the collector (the judge process only) ---------------------------------------------------


def first_line(text: str) -> str:
    """What a student reads: the first line that says something."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class Collector:
    """Lists the tests, runs those of ``run``, writes every outcome for the grader."""

    def __init__(self, out: IO[str], run: set[str], hidden_dir: str | None) -> None:
        self.out = out
        self.run = run
        self.hidden = hidden_dir.rstrip("/") + "/" if hidden_dir else None
        self.records: dict[str, dict[str, Any]] = {}

    def write(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        listed = []
        for item in items:
            exercise, task = task_of(item) or (None, None)
            visibility = (
                "hidden" if self.hidden and item.nodeid.startswith(self.hidden) else "visible"
            )
            self.records[item.nodeid] = {
                "nodeid": item.nodeid,
                "name": item.name,
                "exercise": exercise,
                "task": task,
                "visibility": visibility,
            }
            listed.append(self.records[item.nodeid])
        self.write({"event": "collected", "tests": listed})
        chosen = [i for i in items if self.records[i.nodeid]["exercise"] in self.run]
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is None or record.get("status", "pass") != "pass":
            return
        found: dict[str, Any] | None = dict(report.user_properties).get(VERDICT)  # type: ignore[assignment]
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            found = {"status": "skipped", "cause": "not_run", "message": str(reason)}
        elif report.passed and report.when == "call":
            found = {"status": "pass", "cause": "", "message": ""}
        elif not report.failed:
            return
        found = found or {"status": "error", "cause": "check", "message": str(report.longrepr)}
        raised = found.get("raised")
        record |= {k: v for k, v in found.items() if k != "raised"}
        record["message"] = printable(first_line(found["message"]))[:500]
        if raised:
            record["raised"] = {
                k: printable(v) if isinstance(v, str) else v for k, v in raised.items()
            }
        record["duration"] = round(record.get("duration", 0) + report.duration, 3)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        record = self.records.get(nodeid)
        if record is not None and "status" in record:
            self.write({"event": "result", **record})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        subject = session.config.stash.get(SUBJECT, None)
        if subject is not None:
            self.write(
                {
                    "event": "subject",
                    "broken": {e: printable(m) for e, m in subject.broken.items()},
                    "violations": subject.violations,
                    "confinement": subject.confinement.mode,
                    "output": printable(subject.output(subject.limits.output_kb * 1024)),
                }
            )
