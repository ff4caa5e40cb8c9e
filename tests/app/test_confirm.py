"""``POST /auth/confirm``: the step-up itself, its token rotation and its lockout."""

from datetime import UTC, datetime, timedelta

import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    assert_reauth_required,
    assert_signed_in,
    assert_signed_out,
    confirm,
    count,
    iso,
    session_token,
    with_cookie,
)
from fastapi.testclient import TestClient
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab
from course_kit.timetravel import START


def test_a_confirmation_answers_the_window(alice: TestClient, clock: FrozenDateTimeFactory) -> None:
    clock.tick(42)
    r = alice.post("/auth/confirm", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "message": "Identity confirmed.",
        "expires_in": 300,
        "expires_at": "2026-01-15T09:05:42Z",
    }


def test_me_shows_the_stamp(alice: TestClient) -> None:
    window = confirm(alice)
    reauth = alice.get("/me").json()["reauth"]
    assert reauth["recent"] is True
    assert reauth["expires_at"] == window["expires_at"] == iso(START + timedelta(seconds=300))
    assert reauth["method"] == "password"


def test_a_confirmation_rotates_the_session_token(lab: Lab, alice: TestClient) -> None:
    old = session_token(alice)
    confirm(alice)
    new = session_token(alice)
    assert new != old
    assert_signed_out(with_cookie(lab, old))
    r = with_cookie(lab, new).get("/me")
    assert r.status_code == 200, r.text
    assert count(lab, "sessions") == 1  # the same session, with a new token


@pytest.mark.parametrize(
    "body",
    [{}, {"password": PASSWORD, "code": "123456"}, {"code": "123456", "recovery_code": "a-b-c"}],
)
def test_exactly_one_factor(lab: Lab, alice: TestClient, body: dict) -> None:
    r = alice.post("/auth/confirm", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "Provide exactly one of: password, code, recovery_code"
    assert lab.query("SELECT failed_confirmations FROM sessions")[0][0] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"password": "wrong password"},
        {"password": ""},
        {"password": "x" * 100},  # over bcrypt's 72 bytes: a 401, not a 500
        {"code": "123456"},  # TOTP while 2FA is off
        {"code": "abc"},
        {"recovery_code": "0000-0000-0000"},
    ],
)
def test_a_wrong_factor_is_a_401_and_unlocks_nothing(alice: TestClient, body: dict) -> None:
    token = session_token(alice)
    r = alice.post("/auth/confirm", json=body)
    assert r.status_code == 401, r.text
    assert r.json() == {
        "error": "Invalid credentials",
        "code": "invalid_credentials",
        "attempts_left": 4,
    }
    assert session_token(alice) == token
    assert_reauth_required(alice.post("/me/2fa/setup"))


def test_confirm_needs_a_session(lab: Lab) -> None:
    r = lab.client().post("/auth/confirm", json={"password": PASSWORD})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "Authentication required"


def wrong(client: TestClient) -> dict:
    r = client.post("/auth/confirm", json={"password": "not it"})
    assert r.status_code == 401, r.text
    return r.json()


def test_the_fifth_failure_revokes_the_session(lab: Lab, alice: TestClient) -> None:
    laptop = lab.client()
    lab.login(laptop, ALICE, PASSWORD)
    token = session_token(alice)
    for _ in range(4):
        assert wrong(alice)["code"] == "invalid_credentials"
    assert_signed_in(alice)

    body = wrong(alice)
    assert body["code"] == "session_revoked"
    assert "signed out" in body["error"]
    assert_signed_out(alice)
    assert_signed_out(with_cookie(lab, token))
    r = with_cookie(lab, token).post("/auth/confirm", json={"password": PASSWORD})
    assert r.status_code == 401, r.text  # the right password is too late
    assert_signed_in(laptop)  # only the guessing session is gone
    assert count(lab, "sessions") == 1


def test_each_failure_says_how_many_attempts_are_left(alice: TestClient) -> None:
    assert [wrong(alice).get("attempts_left") for _ in range(4)] == [4, 3, 2, 1]
    assert "attempts_left" not in wrong(alice)  # the fifth signed the session out


def test_a_success_resets_the_failure_count(alice: TestClient) -> None:
    for _ in range(4):
        wrong(alice)
    confirm(alice)
    for _ in range(4):
        assert wrong(alice)["code"] == "invalid_credentials"
    assert_signed_in(alice)


def test_failures_are_counted_per_session(lab: Lab, alice: TestClient) -> None:
    laptop = lab.client()
    lab.login(laptop, ALICE, PASSWORD)
    for client in (alice, laptop, alice, laptop, alice, laptop, alice, laptop):
        assert wrong(client)["code"] == "invalid_credentials"
    confirm(alice)
    confirm(laptop)


def test_expires_at_is_the_stored_stamp_plus_the_window(lab: Lab, alice: TestClient) -> None:
    """Issue 18: under load the answer's ``expires_at`` was computed when the answer left,
    a second or two after the stamp was stored. Here every reading of the clock moves it a second on
    (freezegun's auto-tick, ``real_asyncio`` like every freeze of ours), so any second
    reading would show."""
    with freeze_time(datetime.now(UTC), auto_tick_seconds=1, real_asyncio=True):
        body = confirm(alice)
    [stamp] = [row[0] for row in lab.query("SELECT confirmed_at FROM sessions") if row[0]]
    stored = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert body["expires_at"] == iso(stored + timedelta(seconds=300)), (body, stamp)
