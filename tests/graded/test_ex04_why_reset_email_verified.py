"""Graded tests for exercise 4: every statement answered.

Whether each answer is right is checked when graded (tests/graded/hidden/), not here: with
two possible answers per statement, a key in this file would give the answers away. The
free-text ``EXPLANATION`` is recorded by the grader for the instructor and not scored.
"""

from collections.abc import Callable

import pytest

from course_kit.testing import Student, expect

STATEMENT_IDS = {
    "inbox_unproven",
    "recovery_mail",
    "trusting_features",
    "typo",
    "step_up_proves_inbox",
    "hash_tied_to_email",
    "signs_out",
    "old_address_keeps_recovery",
}


@pytest.fixture
def answers(student_of: Callable[[str], Student]) -> dict:
    """``ANSWERS`` as plain data, read in the submission process."""
    found = student_of("ex04").read("ANSWERS", "STATEMENTS").get("ANSWERS")
    expect(found is not None, "exercises/ex04_why_reset_email_verified.py has no ANSWERS")
    expect(isinstance(found, dict) and "type" not in found, f"ANSWERS should be a dict: {found}")
    return found


@pytest.mark.task("ex04", 1)
def test_every_statement_is_answered(answers: dict) -> None:
    missing = sorted(STATEMENT_IDS - set(answers))
    expect(not missing, f"ANSWERS has no entry for {missing}")
    undecided = sorted(k for k in STATEMENT_IDS if not isinstance(answers.get(k), bool))
    expect(not undecided, f"still undecided (use True or False): {undecided}")
