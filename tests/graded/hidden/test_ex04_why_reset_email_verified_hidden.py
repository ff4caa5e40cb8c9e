"""Hidden graded tests for exercise 4: is each statement judged right?

Run by `stepup grade`, never shipped to students: with two possible answers per statement,
any key a student can read (even hashed) gives the answers away. At home, the visible test
only checks that every statement is answered.
"""

import hashlib
from collections.abc import Callable

import pytest

from course_kit.testing import Student, expect

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


@pytest.mark.parametrize("statement", sorted(KEY))
@pytest.mark.task("ex04", 1)
def test_statement(student_of: Callable[[str], Student], statement: str) -> None:
    # Only the answers travel, as data: the key never enters the submission process.
    values = student_of("ex04").read("ANSWERS", "STATEMENTS")
    answers, statements = values.get("ANSWERS"), values.get("STATEMENTS")
    expect(isinstance(answers, dict), "ANSWERS is missing or not a dict")
    answer = answers.get(statement)
    expect(isinstance(answer, bool), f"{statement!r} is not answered yet (True or False)")
    text = statements.get(statement, statement) if isinstance(statements, dict) else statement
    expect(digest(statement, answer) == KEY[statement], f"Think again about: {text!r}")
