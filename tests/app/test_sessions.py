"""Server-side sessions: hashed tokens, idle and absolute timeouts, the session list."""

import hashlib

import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    assert_reauth_required,
    assert_signed_in,
    assert_signed_out,
    confirm,
    count,
    session_token,
    with_cookie,
)
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab


def test_the_table_holds_the_sha256_of_the_cookie_never_the_cookie(lab: Lab, alice) -> None:
    token = session_token(alice)
    [row] = lab.query("SELECT * FROM sessions")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in tuple(row)]


@pytest.mark.parametrize("cookie", [None, "", "not-a-session", "x" * 4000])
def test_a_missing_or_unknown_cookie_is_a_401(lab: Lab, cookie: str | None) -> None:
    client = lab.client() if cookie is None else with_cookie(lab, cookie)
    r = client.get("/me")
    assert r.status_code == 401, r.text
    assert r.json() == {"error": "Authentication required", "code": "not_authenticated"}


@pytest.mark.parametrize(("idle", "status"), [(1800, 200), (1801, 401)])
def test_idle_timeout_is_1800_seconds(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory, idle: int, status: int
) -> None:
    clock.tick(idle)
    r = alice.get("/me")
    assert r.status_code == status, r.text
    if status == 401:
        assert r.json()["error"] == "Authentication required"
    assert count(lab, "sessions") == (1 if status == 200 else 0)  # expired rows are deleted


def test_activity_keeps_a_session_alive(alice: TestClient, clock: FrozenDateTimeFactory) -> None:
    for _ in range(3):
        clock.tick(1500)
        r = alice.get("/me")
        assert r.status_code == 200, r.text


def test_absolute_timeout_is_one_day_however_busy(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    # A copy of the cookie without its Max-Age: the server must enforce the limit itself.
    browser = with_cookie(lab, session_token(alice))
    for _ in range(86400 // 1800):  # a request every 30 minutes, never idle for too long
        clock.tick(1800)
        assert_signed_in(browser)  # the last one exactly 86400 s after sign-in
    clock.tick(1)
    assert_signed_out(browser)
    assert count(lab, "sessions") == 0


def test_the_session_list_marks_the_current_one(lab: Lab, alice: TestClient) -> None:
    phone = lab.client()
    lab.login(phone, ALICE, PASSWORD)
    seen = []
    for client in (alice, phone):
        r = client.get("/me/sessions")
        assert r.status_code == 200, r.text
        sessions = r.json()
        assert len(sessions) == 2
        assert [s["current"] for s in sessions].count(True) == 1
        assert all("token_hash" not in s for s in sessions)
        seen.append(_current_id(client))
    assert seen[0] != seen[1]


def test_the_session_list_shows_only_my_sessions(lab: Lab, alice: TestClient, bob) -> None:
    r = bob.get("/me/sessions")
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1


def _current_id(client: TestClient) -> int:
    r = client.get("/me/sessions")
    assert r.status_code == 200, r.text
    return next(s["id"] for s in r.json() if s["current"])


def test_revoking_a_session_needs_a_recent_confirmation(lab: Lab, alice: TestClient) -> None:
    phone = lab.client()
    lab.login(phone, ALICE, PASSWORD)
    r = alice.delete(f"/me/sessions/{_current_id(phone)}")
    assert_reauth_required(r, ["password"])
    assert_signed_in(phone)

    confirm(alice)
    r = alice.delete(f"/me/sessions/{_current_id(phone)}")
    assert r.status_code == 204, r.text
    assert_signed_out(phone)
    assert_signed_in(alice)


def test_revoking_the_current_session_signs_it_out(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    r = alice.delete(f"/me/sessions/{_current_id(alice)}")
    assert r.status_code == 204, r.text
    assert_signed_out(alice)
    assert count(lab, "sessions") == 0


def test_someone_elses_session_is_not_found(lab: Lab, alice: TestClient, bob) -> None:
    bobs_session = _current_id(bob)
    confirm(alice)
    for session_id in (bobs_session, 999):
        r = alice.delete(f"/me/sessions/{session_id}")
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "not_found"
    assert_signed_in(bob)
