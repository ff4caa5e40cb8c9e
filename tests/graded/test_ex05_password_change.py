"""Graded tests for exercise 5 (bonus): password change with session rotation
(``PUT /me/password``)."""

import bcrypt
import pytest
from httpx import Client

from course_app.sessions import COOKIE
from course_kit.testing import (
    PASSWORD,
    Clocks,
    Lab,
    expect,
    expect_let_through,
    expect_status,
    task,
)

ALICE = "alice@example.com"
NEW = "a brand new password"
DONE = "Password changed. All other sessions have been revoked."


@pytest.fixture
def lab(make_lab, clock: Clocks) -> Lab:
    return make_lab("ex05")


def confirm(client: Client) -> None:
    r = client.post("/auth/confirm", json={"password": PASSWORD})
    expect_status(r, 200, "POST /auth/confirm with the right password")


def change(client: Client, password: str = NEW):
    return client.put("/me/password", json={"new_password": password})


def can_sign_in(lab: Lab, password: str) -> bool:
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": password})
    expect(r.status_code in (200, 401), f"POST /auth/login answered {r.status_code} {r.text}")
    return r.status_code == 200


def second_session(lab: Lab) -> Client:
    """Alice signed in on another device."""
    other = lab.client()
    lab.login(other, ALICE, PASSWORD)
    return other


def with_cookie(lab: Lab, token: str) -> Client:
    """A browser that presents ``token`` as its session cookie."""
    client = lab.client()
    client.cookies.set(COOKIE, token)
    return client


# --- task 1: who are you → prove it recently → act -------------------------------------------


@task("ex05", 1)
def test_needs_a_session(lab: Lab) -> None:
    expect_status(change(lab.client()), 401, "PUT /me/password without a session cookie")


@task("ex05", 1)
def test_a_fresh_sign_in_is_not_a_recent_confirmation(lab: Lab) -> None:
    alice = lab.person(ALICE)
    r = change(alice)
    expect_status(
        r,
        403,
        "PUT /me/password from a session that signed in but never confirmed",
        "reauth_required",
    )
    expect(can_sign_in(lab, PASSWORD), "the password changed although the answer was 403")


@task("ex05", 1)
def test_step_up_is_checked_before_the_body(lab: Lab) -> None:
    alice = lab.person(ALICE)
    r = alice.put("/me/password", json={})
    expect_status(
        r, 403, "PUT /me/password with an empty body from an unconfirmed session", "reauth_required"
    )


@task("ex05", 1)
def test_a_confirmed_session_gets_past_the_guard(lab: Lab) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    expect_let_through(change(alice), "PUT /me/password right after confirming")


@task("ex05", 1)
def test_confirming_one_session_does_not_unlock_another(lab: Lab) -> None:
    alice = lab.person(ALICE)
    thief = second_session(lab)
    confirm(alice)
    r = change(thief)
    expect_status(
        r,
        403,
        "PUT /me/password from alice's other, unconfirmed session (a stolen cookie) while"
        " she had just confirmed on her own",
        "reauth_required",
    )
    expect(can_sign_in(lab, PASSWORD), "a session that never confirmed changed the password")


@task("ex05", 1)
def test_the_window_closes_after_five_minutes(lab: Lab, clock: Clocks) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    clock.tick(301)
    r = change(alice)
    expect_status(r, 403, "PUT /me/password 301 s after confirming", "reauth_required")


# --- task 2: 8 to 72 bytes, checked before bcrypt sees it ---------------------------------------


@pytest.mark.parametrize(
    "password", ["x" * 8, "x" * 72, "€" * 5], ids=["8-bytes", "72-bytes", "5-chars-15-bytes"]
)
@task("ex05", 2)
def test_8_to_72_bytes_are_hashed(lab: Lab, student_of, password: str) -> None:
    # Task 2 alone: its function, not the whole route (which needs task 3 to answer 200).
    size = len(password.encode())
    hashed = student_of("ex05").call("new_password_hash", password, 4)
    expect(
        isinstance(hashed, str) and bcrypt.checkpw(password.encode(), hashed.encode()),
        f"new_password_hash({password!r}, 4) for {size} bytes should return its bcrypt hash,"
        f" not {hashed!r}",
    )
    alice = lab.person(ALICE)
    confirm(alice)
    r = change(alice, password)
    expect(r.status_code != 400, f"PUT /me/password refused a {size}-byte password: {r.text[:160]}")


@pytest.mark.parametrize(
    "password",
    ["", "x" * 7, "x" * 73, "x" * 500],
    ids=["empty", "7-bytes", "73-bytes", "500-bytes"],
)
@task("ex05", 2)
def test_too_short_or_too_long_is_refused_and_nothing_changes(lab: Lab, password: str) -> None:
    alice = lab.person(ALICE)
    laptop = second_session(lab)
    confirm(alice)
    r = change(alice, password)
    doing = f"PUT /me/password with a {len(password)}-byte password"
    body = expect_status(r, 400, doing, "weak_password")
    expect(bool(body.get("error")), f"the 400 should say what is wrong in 'error': {body}")
    expect(can_sign_in(lab, PASSWORD), "a refused password still replaced the old one")
    expect_status(laptop.get("/me"), 200, "GET /me from alice's other session after a refusal")
    expect_status(alice.get("/me"), 200, "GET /me from the session whose change was refused")


@task("ex05", 2)
def test_the_rule_counts_bytes_not_characters(lab: Lab) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    password = "é" * 37
    doing = f"PUT /me/password with {password!r} (37 characters, 74 bytes)"
    expect_status(change(alice, password), 400, doing, "weak_password")
    expect(can_sign_in(lab, PASSWORD), "a refused password still replaced the old one")


# --- task 3: rotate the session --------------------------------------------------------------


@task("ex05", 3)
def test_the_session_gets_a_new_cookie_and_the_old_one_dies(lab: Lab) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    old = alice.cookies.get(COOKIE)
    r = change(alice)
    body = expect_status(r, 200, "PUT /me/password after confirming")
    expect(body.get("message") == DONE, f"the 200 body should be {{'message': {DONE!r}}}: {body}")
    expect(can_sign_in(lab, NEW), "the new password does not sign in")
    expect(not can_sign_in(lab, PASSWORD), "the old password still signs in after the change")
    new = r.cookies.get(COOKIE)
    expect(bool(new) and new != old, "the 200 should set a new session cookie (set_session_cookie)")
    expect("httponly" in r.headers.get("set-cookie", "").lower(), "the new cookie is not HttpOnly")
    expect_status(alice.get("/me"), 200, "GET /me with the new cookie")
    r = with_cookie(lab, old).get("/me")
    expect_status(r, 401, "GET /me with the session cookie from before the change")


@task("ex05", 3)
def test_every_other_session_is_signed_out(lab: Lab) -> None:
    alice = lab.person(ALICE)
    laptop, phone = second_session(lab), second_session(lab)
    confirm(alice)
    expect_status(change(alice), 200, "PUT /me/password after confirming")
    for name, device in (("laptop", laptop), ("phone", phone)):
        r = device.get("/me")
        expect_status(r, 401, f"GET /me from alice's {name} session after the password change")
    left = lab.query(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?", ALICE
    )
    expect(len(left) == 1, f"alice should have one session left (this one), not {len(left)}")


@task("ex05", 3)
def test_other_peoples_sessions_stay(lab: Lab) -> None:
    bob = lab.person("bob@example.com")
    alice = lab.person(ALICE)
    confirm(alice)
    expect_status(change(alice), 200, "PUT /me/password after confirming")
    expect_status(bob.get("/me"), 200, "GET /me from bob's session after alice's change")


@task("ex05", 3)
def test_the_account_is_told(lab: Lab) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    before = len(lab.mail(ALICE))
    expect_status(change(alice), 200, "PUT /me/password after confirming")
    notices = lab.mail(ALICE)[before:]
    expect(len(notices) == 1, f"expected one notice to {ALICE}, got {len(notices)}")
    expect("password" in notices[0]["subject"].lower(), f"notice subject: {notices[0]['subject']}")


@task("ex05", 3)
def test_the_change_does_not_extend_the_window(lab: Lab, clock: Clocks) -> None:
    alice = lab.person(ALICE)
    confirm(alice)
    window = expect_status(alice.get("/me"), 200, "GET /me after confirming")["reauth"]
    clock.tick(200)
    expect_status(change(alice), 200, "PUT /me/password 200 s after confirming")
    after = expect_status(alice.get("/me"), 200, "GET /me after the password change")["reauth"]
    expect(
        after.get("expires_at") == window.get("expires_at"),
        f"the confirmation window moved from {window.get('expires_at')} to"
        f" {after.get('expires_at')}: choosing a password is not a confirmation",
    )
