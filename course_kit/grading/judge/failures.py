"""How a submission process fails the judge: each kind an exception of its own, so a test's
verdict says which (a timeout, a crash, tampering, a file that cannot be used)."""

import contextlib
import signal


class SubjectError(Exception):
    """The submission process did not answer as it must: the current test fails."""


class SubjectTimeout(SubjectError):
    pass


class SubjectCrashed(SubjectError):
    pass


class ProtocolViolation(SubjectError):
    """The submission wrote on the grader's channel: tampering, flagged for the instructor."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the submission wrote {what} on the grader's channel")
        self.what = what


class ExerciseBroken(Exception):
    """The exercise's file could not be imported (or was not graded): its tests fail as one."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"
