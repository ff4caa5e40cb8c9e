"""Hidden graded tests for exercise 5: run by `stepup grade`, never shipped to students.

More inputs to the rule the visible tests teach: passwords right at the 72-byte edge in
accented characters, where a rule that counts characters goes wrong.
"""

import bcrypt
import pytest

from course_kit.testing import PASSWORD, Clocks, Lab, expect, expect_status

ALICE = "alice@example.com"


@pytest.fixture
def lab(make_lab, clock: Clocks) -> Lab:
    return make_lab("ex05")


@pytest.mark.parametrize(
    "password", ["é" * 36, "€" * 24], ids=["72-bytes-36-chars", "72-bytes-24-chars"]
)
@pytest.mark.task("ex05", 2)
def test_72_utf8_bytes_are_hashed(student_of, password: str) -> None:
    hashed = student_of("ex05").call("new_password_hash", password, 4)
    expect(
        isinstance(hashed, str) and bcrypt.checkpw(password.encode(), hashed.encode()),
        f"new_password_hash() refused or mishashed {len(password)} characters that are 72 bytes",
    )


@pytest.mark.parametrize("password", ["é" * 37, "€" * 25], ids=["74-bytes", "75-bytes"])
@pytest.mark.task("ex05", 2)
def test_more_than_72_utf8_bytes_are_refused(lab: Lab, password: str) -> None:
    alice = lab.person(ALICE)
    r = alice.post("/auth/confirm", json={"password": PASSWORD})
    expect_status(r, 200, "POST /auth/confirm with the right password")
    size = len(password.encode())
    r = alice.put("/me/password", json={"new_password": password})
    doing = f"PUT /me/password with {len(password)} characters ({size} bytes in UTF-8)"
    expect_status(r, 400, doing, "weak_password")
