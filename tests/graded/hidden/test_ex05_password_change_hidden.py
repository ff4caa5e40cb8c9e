"""Hidden graded tests for exercise 5: run by `stepup grade`, never shipped to students.

More inputs to the rule the visible tests teach: passwords right at the 72-byte edge in
accented characters, where a rule that counts characters goes wrong.
"""

import pytest

from course_app.grading.expect import expect, expect_status
from course_app.grading.lab import Clocks
from course_app.testing import PASSWORD, Lab

ALICE = "alice@example.com"


@pytest.fixture
def lab(make_lab, clock: Clocks) -> Lab:
    return make_lab("ex05")


@pytest.mark.parametrize(
    ("password", "status"),
    [("é" * 36, 200), ("é" * 37, 400), ("€" * 5, 200)],
    ids=["72-bytes-36-chars", "74-bytes-37-chars", "15-bytes-5-chars"],
)
@pytest.mark.task("ex05", 2)
def test_the_rule_counts_utf8_bytes_not_characters(lab: Lab, password: str, status: int) -> None:
    alice = lab.person(ALICE)
    r = alice.post("/auth/confirm", json={"password": PASSWORD})
    expect_status(r, 200, "POST /auth/confirm with the right password")
    size = len(password.encode())
    r = alice.put("/me/password", json={"new_password": password})
    doing = f"PUT /me/password with {len(password)} characters ({size} bytes in UTF-8)"
    expect_status(r, status, doing, "weak_password" if status == 400 else None)
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": password})
    expect(
        (r.status_code == 200) == (status == 200), f"signing in with it answered {r.status_code}"
    )
