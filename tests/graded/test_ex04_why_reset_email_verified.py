"""Graded tests for exercise 4: every statement answered.

Whether each answer is right is checked when graded (tests/graded/hidden/), not here: with
two possible answers per statement, a key in this file would give the answers away. The
free-text ``EXPLANATION`` is recorded by the grader for the instructor and not scored.
"""

import pytest

from course_app.grading.expect import expect
from course_app.impl import Implementation

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
def answers(impl: Implementation) -> dict:
    found = impl.get("ex04", "ANSWERS")
    expect(isinstance(found, dict), f"ANSWERS should be a dict, not {type(found).__name__}")
    return found


@pytest.mark.task("ex04", 1)
def test_every_statement_is_answered(answers: dict) -> None:
    missing = sorted(STATEMENT_IDS - set(answers))
    expect(not missing, f"ANSWERS has no entry for {missing}")
    undecided = sorted(k for k in STATEMENT_IDS if not isinstance(answers.get(k), bool))
    expect(not undecided, f"still undecided (use True or False): {undecided}")
