"""The API graded tests are written with (``docs/authoring.md`` walks through it).

    from course_kit.testing import PASSWORD, Clocks, Lab, expect, expect_status, task

    @pytest.fixture
    def lab(make_lab) -> Lab:
        return make_lab("ex06")          # the student's app, with only ex06's routes

    @task("ex06", 1)
    def test_a_stale_session_is_asked_to_confirm(lab: Lab) -> None:
        carol = lab.person("carol@example.com", two_factor=True)
        r = carol.post("/me/2fa/disable", json={"code": lab.totp("carol@example.com")})
        expect_status(r, 403, "POST /me/2fa/disable from an unconfirmed session", "reauth_required")

The fixtures (``make_lab``, ``student_of``, ``clock``) come from the judge's plugin through
``tests/graded/conftest.py``. Everything here runs in the judge, never beside the student's code.
"""

import pytest

from course_kit.grading.judge.expect import (
    expect,
    expect_error,
    expect_let_through,
    expect_status,
)
from course_kit.grading.judge.remote import (
    Clocks,
    ReferenceServer,
    RemoteClient,
    RemoteLab,
    Student,
    StudentRaised,
)
from course_kit.grading.judge.subject import Subject
from course_kit.lab import Lab, Modal, path_of, token_of
from course_kit.people import PASSWORD
from course_kit.text import times

task = pytest.mark.task  # @task("ex06", 2): the test counts towards task 2 of ex06

__all__ = [
    "PASSWORD",
    "Clocks",
    "Lab",
    "Modal",
    "ReferenceServer",
    "RemoteClient",
    "RemoteLab",
    "Student",
    "StudentRaised",
    "Subject",
    "expect",
    "expect_error",
    "expect_let_through",
    "expect_status",
    "path_of",
    "task",
    "times",
    "token_of",
]
