"""The step-up guard (``RecentAuth``): its 403, its window, and whose stamp counts."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    assert_reauth_required,
    confirm,
    enable_2fa,
    sign_in_2fa,
)
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab
from course_kit.timetravel import START

GUARDED = "/me/2fa/setup"  # any step-up route; this one can be repeated while 2FA is off


def guarded(client: TestClient, status: int) -> None:
    r = client.post(GUARDED)
    assert r.status_code == status, r.text


def test_the_403_says_what_to_do(alice: TestClient) -> None:
    r = alice.post(GUARDED)
    assert r.status_code == 403, r.text
    assert r.json() == {
        "error": "Re-authentication required",
        "code": "reauth_required",
        "max_age": 300,
        "methods": ["password"],
        "level": "any_factor",  # setting up 2FA asks the second factor only of those who have one
        "action": "setup_two_factor",
    }


def test_the_methods_follow_the_users_factors(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    enable_2fa(alice, clock)
    clock.tick(301)
    assert_reauth_required(alice.delete("/me/sessions/1"), ["password", "totp", "recovery_code"])
    assert lab.user(ALICE) is not None


def test_a_guarded_route_needs_a_session_first(lab: Lab) -> None:
    r = lab.client().post(GUARDED)
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(("after", "status"), [(0, 200), (299, 200), (300, 200), (301, 403)])
def test_the_window_is_300_seconds_inclusive(
    alice: TestClient, clock: FrozenDateTimeFactory, after: int, status: int
) -> None:
    confirm(alice)
    clock.tick(after)
    r = alice.post(GUARDED)
    assert r.status_code == status, r.text


@pytest.mark.parametrize(
    ("after", "recent", "expires_in", "status"),
    [(0, True, 300, 200), (299, True, 1, 200), (300, True, 0, 200), (301, False, None, 403)],
)
def test_me_counts_down_the_seconds_the_guard_still_accepts(
    alice: TestClient,
    clock: FrozenDateTimeFactory,
    after: int,
    recent: bool,
    expires_in: int | None,
    status: int,
) -> None:
    """``reauth.expires_in`` follows the guard's own rule: 0 is the last second that passes,
    and the second after it the guard refuses. A page counting it down needs no clock of
    its own to agree with the server."""
    confirm(alice)
    clock.tick(after)
    reauth = alice.get("/me").json()["reauth"]
    assert (reauth["recent"], reauth["expires_in"]) == (recent, expires_in), reauth
    guarded(alice, status)


def test_confirming_again_reopens_the_window(
    alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    confirm(alice)
    clock.tick(400)
    guarded(alice, 403)
    confirm(alice)
    guarded(alice, 200)
    assert alice.get("/me").json()["reauth"]["recent"] is True


def test_the_stamp_belongs_to_the_session_not_the_user(lab: Lab, alice: TestClient) -> None:
    laptop = lab.client()
    lab.login(laptop, ALICE, PASSWORD)
    confirm(alice)
    guarded(alice, 200)
    assert_reauth_required(laptop.post(GUARDED))
    assert laptop.get("/me").json()["reauth"]["recent"] is False


def test_a_fresh_login_is_not_a_recent_authentication(lab: Lab) -> None:
    assert lab.settings.login_is_recent_auth is False
    client = lab.person(ALICE, PASSWORD)
    assert_reauth_required(client.post(GUARDED))
    assert client.get("/me").json()["reauth"] == {
        "recent": False,
        "expires_at": None,
        "expires_in": None,
        "method": None,
        "level": None,
        "max_age": 300,
    }


def test_login_can_count_as_recent_when_configured(
    make_lab: Callable[..., Lab], clock: FrozenDateTimeFactory
) -> None:
    lab = make_lab(login_is_recent_auth=True)
    client = lab.person(ALICE, PASSWORD)
    reauth = client.get("/me").json()["reauth"]
    assert reauth["recent"] is True
    assert reauth["method"] == "password"
    assert reauth["expires_at"] == "2026-01-15T09:05:00Z"
    guarded(client, 200)
    clock.tick(301)
    assert_reauth_required(client.post(GUARDED))


def test_a_2fa_login_counts_with_its_second_factor_when_configured(
    make_lab: Callable[..., Lab], clock: FrozenDateTimeFactory
) -> None:
    lab = make_lab(login_is_recent_auth=True)
    factors = enable_2fa(lab.person(ALICE, PASSWORD), clock)
    clock.tick(600)
    client, r = sign_in_2fa(lab, ALICE, code=factors.code())
    assert r.status_code == 200, r.text
    assert client.get("/me").json()["reauth"]["method"] == "totp"
    r = client.post("/me/2fa/disable", json={"code": factors.code(steps_ahead=1)})
    assert r.status_code == 200, r.text


def test_a_stamp_from_the_future_fails_closed(
    alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    confirm(alice)
    clock.move_to(START - timedelta(minutes=2))  # the server clock was set back
    assert_reauth_required(alice.post(GUARDED))
    assert alice.get("/me").json()["reauth"]["recent"] is False
    confirm(alice)  # a confirmation made now counts again
    guarded(alice, 200)


def test_changing_the_password_does_not_extend_the_window(
    alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    confirm(alice)
    clock.tick(200)
    r = alice.put("/me/password", json={"new_password": "a brand new password"})
    assert r.status_code == 200, r.text
    clock.tick(101)  # 301 s after the confirmation, 101 s after the change
    assert_reauth_required(alice.post(GUARDED))
