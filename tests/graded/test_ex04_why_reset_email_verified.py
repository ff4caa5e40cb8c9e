"""Graded tests for exercise 4: the true/false statements.

The key is stored as digests so reading this file does not hand out the answers; the free-text
``EXPLANATION`` is recorded by the grader for the instructor and not scored.
"""

import hashlib

import pytest

from course_app.grading.expect import expect
from course_app.impl import Implementation

KEY = {
    "inbox_unproven": "cea4f60f5c9719c7",
    "recovery_mail": "89c66cf8efd43793",
    "trusting_features": "a35d5e9dec1e5adb",
    "typo": "06b228a9a3778483",
    "step_up_proves_inbox": "4189ac687b4f19d2",
    "hash_tied_to_email": "4a2fc9452e8692e3",
    "signs_out": "c888bba75894e5ee",
    "old_address_keeps_recovery": "8f76fc66566a16a5",
}


def digest(statement: str, answer: object) -> str:
    return hashlib.sha256(f"stepup-ex04:{statement}:{answer}".encode()).hexdigest()[:16]


@pytest.fixture
def answers(impl: Implementation) -> dict:
    found = impl.get("ex04", "ANSWERS")
    expect(isinstance(found, dict), f"ANSWERS should be a dict, not {type(found).__name__}")
    return found


@pytest.mark.task("ex04", 1)
def test_every_statement_is_answered(answers: dict) -> None:
    missing = sorted(set(KEY) - set(answers))
    expect(not missing, f"ANSWERS has no entry for {missing}")
    undecided = sorted(k for k in KEY if not isinstance(answers.get(k), bool))
    expect(not undecided, f"still undecided (use True or False): {undecided}")


@pytest.mark.parametrize("statement", sorted(KEY))
@pytest.mark.task("ex04", 1)
def test_statement(answers: dict, impl: Implementation, statement: str) -> None:
    answer = answers.get(statement)
    expect(isinstance(answer, bool), f"{statement!r} is not answered yet (True or False)")
    text = impl.get("ex04", "STATEMENTS").get(statement, statement)
    expect(digest(statement, answer) == KEY[statement], f"Think again about: {text!r}")
