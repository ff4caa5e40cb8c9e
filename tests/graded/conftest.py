"""Fixtures for the graded tests: the judge's side of one submission process.

The student's code never runs in this process. ``--impl`` names the exercise files; a
submission process (see ``course_app.grading.driver``) imports them once per run and serves
the app over a Unix socket; each test resets it, and a test that hangs or crashes it gets a
fresh one. One rule for time: a test that takes longer than the per-test limit is a timeout,
whether its requests were cut short or it passed late.
"""

from collections.abc import Callable, Iterator

import pytest
from freezegun.api import FrozenDateTimeFactory

from course_app.grading.config import Limits, load_config
from course_app.grading.lab import SUBJECT, Clocks, RemoteLab, Student
from course_app.grading.subject import (
    PRELAUNCHED,
    ExerciseBroken,
    Subject,
    SubjectError,
    SubjectTimeout,
    real_monotonic,
)
from course_app.impl import ImplementationError, resolve
from course_app.manifest import load_course
from course_app.timetravel import START, frozen_clock

STARTED = pytest.StashKey[float]()
LOST = pytest.StashKey[dict[tuple[str, int], str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("step-up lab grading")
    group.addoption("--stepup-exercises", default="", help="exercise ids to load (default all)")
    group.addoption("--stepup-limits", default="", help="grading limits as JSON (course.toml)")


def limits_of(config: pytest.Config) -> Limits:
    given = config.getoption("--stepup-limits")
    return Limits.from_json(given) if given else load_config().limits


def pytest_configure(config: pytest.Config) -> None:
    """Start the submission process now: it boots while pytest collects."""
    chosen = config.getoption("--stepup-exercises")
    ids = chosen.split(",") if chosen else [e.id for e in load_course().exercises]
    if PRELAUNCHED:  # the judge started it before pytest loaded (python -m course_app.grading)
        subject = PRELAUNCHED.pop()
    else:
        try:
            folder = resolve(config.getoption("--impl")).folder
        except ImplementationError as exc:
            raise pytest.UsageError(str(exc)) from None
        subject = Subject(folder, ids, limits_of(config))
        if ids != ["-"]:  # "-": the judge only lists the tests
            subject.launch()
    config.stash[SUBJECT] = subject
    config.stash[LOST] = {}
    config.add_cleanup(subject.close)


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Name hangs and crashes; a test that ran past its limit is a timeout even if it passed."""
    report = yield
    subject = item.config.stash[SUBJECT]
    error = call.excinfo.value if call.excinfo else None
    started = item.stash.get(STARTED, None)
    late = started is not None and real_monotonic() - started > subject.limits.per_test_timeout
    status = None
    if isinstance(error, ExerciseBroken):  # the file could not be used: no fresh process helps
        report.user_properties.append(("stepup_status", error.status))
        return report
    if isinstance(error, SubjectTimeout) or (call.when == "call" and late):
        status = "timeout"
        if not report.failed:
            report.outcome = "failed"
            limit = subject.limits.per_test_timeout
            report.longrepr = f"did not finish within {limit:g} s (the test's time limit)"
    elif isinstance(error, SubjectError):
        status = "error"
    if status is not None:
        report.user_properties.append(("stepup_status", status))
        subject.stop()  # whatever it is doing, the next test gets a fresh process
        task = task_of(item)
        if task is not None:
            item.config.stash[LOST][task] = item.name
    return report


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
