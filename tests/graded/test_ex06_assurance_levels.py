"""Graded tests for exercise 6: not every confirmation is equal (``DELETE /me``'s level, and a
client that reads the RFC 9470 challenge)."""

import httpx
import pytest

from course_app.policy import Level, acr_values
from course_kit.testing import Clocks, Lab, Student, expect, expect_let_through, expect_status, task

CAROL = "carol@example.com"
SECOND_FACTOR = ["urn:stepup-lab:acr:second-factor", "phr"]
EVERY_METHOD = ["password", "totp", "recovery_code", "passkey"]


@pytest.fixture
def lab(make_lab) -> Lab:
    return make_lab("ex06")  # the app with this exercise's policy rows


@pytest.fixture
def student(student_of) -> Student:
    return student_of("ex06")


def carol_after(lab: Lab, clock: Clocks, **factor: str) -> httpx.Client:
    """Carol (two-factor on), confirmed with ``factor`` (the password when none is given)."""
    carol = lab.person(CAROL, two_factor=True)
    clock.tick(30)  # signing in spent this step's code
    if factor.get("code") == "now":
        factor["code"] = lab.totp(CAROL)
    expect_status(
        lab.confirm(carol, **factor), 200, f"POST /auth/confirm with {factor or 'the password'}"
    )
    return carol


# Task 1: the policy row ---------------------------------------------------------------------


@task("ex06", 1)
def test_a_password_alone_cannot_delete_an_account_with_two_factor(lab: Lab, clock: Clocks) -> None:
    carol = carol_after(lab, clock)
    body = expect_status(
        carol.delete("/me"), 403, "DELETE /me after a password confirmation", "reauth_required"
    )
    expect(
        body.get("methods") == ["totp"],
        f"the 403 listed {body.get('methods')}; only carol's authenticator code reaches the"
        " second factor (a password would not do)",
    )
    expect(lab.user(CAROL) is not None, "carol's account was deleted all the same")


@task("ex06", 1)
def test_her_authenticator_code_can(lab: Lab, clock: Clocks) -> None:
    carol = carol_after(lab, clock, code="now")
    expect_let_through(carol.delete("/me"), "DELETE /me after confirming with the code")


@task("ex06", 1)
def test_without_a_second_factor_the_password_still_does(lab: Lab) -> None:
    alice = lab.person("alice@example.com")
    expect_status(lab.confirm(alice), 200, "POST /auth/confirm with alice's password")
    expect_let_through(alice.delete("/me"), "DELETE /me for an account with a password only")


@task("ex06", 1)
def test_a_passkey_is_not_the_only_second_factor(lab: Lab, clock: Clocks) -> None:
    """Carol also has a passkey: her code is a second factor all the same."""
    carol = lab.person(CAROL, two_factor=True)
    user_id = lab.user(CAROL)["id"]
    lab.query(
        "INSERT INTO passkeys (user_id, credential_id, public_key, name, created_at)"
        " VALUES (?, 'graded-test-key', x'00', 'Phone', '2026-01-15T09:00:00Z')",
        user_id,
    )
    clock.tick(30)
    expect_status(lab.confirm(carol, code=lab.totp(CAROL)), 200, "POST /auth/confirm, code")
    expect_let_through(carol.delete("/me"), "DELETE /me after a code, with a passkey enrolled")


# Task 2: reading the challenge ---------------------------------------------------------------


@task("ex06", 2)
def test_reads_the_challenge_the_app_sends(lab: Lab, student: Student) -> None:
    carol = lab.person(CAROL, two_factor=True)
    r = carol.delete("/me")
    body = expect_status(r, 403, "DELETE /me, not confirmed", "reauth_required")
    header = r.headers.get("www-authenticate", "")
    got = student.call("read_challenge", header)
    wanted = acr_values(Level[str(body["level"]).upper()])
    expect(isinstance(got, dict), f"read_challenge({header!r}) returned {got!r}, not a dict")
    expect(
        got.get("acr_values") == wanted,
        f"acr_values: got {got.get('acr_values')}, expected {wanted}",
    )
    expect(got.get("max_age") == 300, f"max_age: got {got.get('max_age')!r}, expected 300")
    expect("needs" in str(got.get("description")), f"description: got {got.get('description')!r}")


@task("ex06", 2)
def test_a_quoted_value_keeps_its_commas(student: Student) -> None:
    header = (
        'Bearer error="insufficient_user_authentication", error_description="Deleting needs'
        ' a second factor, now", acr_values="urn:stepup-lab:acr:second-factor phr", max_age="60"'
    )
    got = student.call("read_challenge", header)
    wanted = {
        "acr_values": SECOND_FACTOR,
        "max_age": 60,
        "description": "Deleting needs a second factor, now",
    }
    expect(got == wanted, f"read_challenge({header!r}) returned {got!r}, expected {wanted}")


@task("ex06", 2)
@pytest.mark.parametrize(
    "header",
    ["", 'Basic realm="stepup"', 'Bearer error="invalid_token", error_description="expired"'],
)
def test_anything_else_is_not_a_step_up_challenge(student: Student, header: str) -> None:
    got = student.call("read_challenge", header)
    expect(got is None, f"read_challenge({header!r}) returned {got!r}, expected None")


# Task 3: what would satisfy it ----------------------------------------------------------------


@task("ex06", 3)
@pytest.mark.parametrize(
    ("accepted", "wanted"),
    [
        (SECOND_FACTOR, ["totp", "recovery_code", "passkey"]),
        (["phr"], ["passkey"]),
        (acr_values(Level.ANY_FACTOR), EVERY_METHOD),
    ],
)
def test_the_ways_that_satisfy_the_challenge(
    student: Student, accepted: list[str], wanted: list[str]
) -> None:
    challenge = {"acr_values": accepted, "max_age": 300, "description": ""}
    got = student.call("ways_to_confirm", challenge, EVERY_METHOD)
    expect(got == wanted, f"ways_to_confirm for {accepted} returned {got!r}, expected {wanted}")


@task("ex06", 3)
def test_a_person_without_a_strong_enough_way_gets_none(student: Student) -> None:
    challenge = {"acr_values": SECOND_FACTOR, "max_age": 300, "description": ""}
    got = student.call("ways_to_confirm", challenge, ["password"])
    expect(got == [], f"ways_to_confirm for a password-only person returned {got!r}, expected []")
