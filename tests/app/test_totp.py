"""TOTP two-factor authentication: enrolment, sign-in, replays, recovery codes, turning off."""

import hashlib
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    TwoFactor,
    assert_reauth_required,
    assert_signed_in,
    assert_signed_out,
    confirm,
    count,
    enable_2fa,
    expect,
    now,
    sign_in_2fa,
)
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab


@pytest.fixture
def factors(alice: TestClient, clock: FrozenDateTimeFactory) -> TwoFactor:
    """Alice with TOTP on; her session's confirmation has since gone stale."""
    enabled = enable_2fa(alice, clock)
    clock.tick(301)
    return enabled


# Enrolment ------------------------------------------------------------------------------


def test_setup_needs_a_recent_confirmation(lab: Lab, alice: TestClient) -> None:
    assert_reauth_required(alice.post("/me/2fa/setup"))
    assert lab.user(ALICE)["totp_secret"] is None


def test_setup_gives_a_secret_and_an_otpauth_uri(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    r = alice.post("/me/2fa/setup")
    assert r.status_code == 200, r.text
    secret, uri = r.json()["secret"], r.json()["otpauth_uri"]
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert ALICE in parts.path.replace("%40", "@")
    assert parse_qs(parts.query)["secret"] == [secret]
    assert parse_qs(parts.query)["issuer"] == ["Step-Up Auth Lab"]
    assert lab.user(ALICE)["totp_enabled"] == 0  # not trusted before a code proves it


def test_enable_needs_setup_first(alice: TestClient) -> None:
    r = alice.post("/me/2fa/enable", json={"code": "123456"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "no_setup"


def test_enable_refuses_a_wrong_code(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    wrong = TwoFactor(alice.post("/me/2fa/setup").json()["secret"], []).wrong_code()
    for code in (wrong, "12345", "abcdef", ""):
        r = alice.post("/me/2fa/enable", json={"code": code})
        assert r.status_code == 400, r.text
    assert lab.user(ALICE)["totp_enabled"] == 0


def test_enable_returns_ten_recovery_codes_stored_hashed(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    secret = alice.post("/me/2fa/setup").json()["secret"]
    r = alice.post("/me/2fa/enable", json={"code": pyotp.TOTP(secret).at(now())})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    stored = {row["code_hash"] for row in lab.query("SELECT code_hash FROM recovery_codes")}
    assert stored == {hashlib.sha256(code.encode()).hexdigest() for code in codes}
    me = alice.get("/me").json()
    assert me["two_factor_enabled"] is True
    assert me["methods"] == ["password", "totp", "recovery_code"]


def test_setup_is_refused_while_2fa_is_on(alice: TestClient, factors: TwoFactor) -> None:
    confirm(alice, recovery_code=factors.recovery_codes[0])
    r = alice.post("/me/2fa/setup")
    assert r.status_code == 409, r.text


# Sign-in ----------------------------------------------------------------------------------


def test_the_password_alone_only_opens_a_pending_login(lab: Lab, factors: TwoFactor) -> None:
    client = lab.client()
    r = client.post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["two_factor_required"] is True
    assert "stepup_session" not in client.cookies
    assert_signed_out(client)


def test_the_second_factor_completes_the_login(lab: Lab, factors: TwoFactor) -> None:
    client, r = sign_in_2fa(lab, ALICE, code=factors.code())
    assert r.status_code == 200, r.text
    assert_signed_in(client)
    assert count(lab, "pending_logins") == 0


def test_a_code_without_a_pending_login_is_a_401(lab: Lab, factors: TwoFactor) -> None:
    r = lab.client().post("/auth/login/2fa", json={"code": factors.code()})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "no_pending_login"


def test_a_pending_login_expires_after_five_minutes(
    lab: Lab, factors: TwoFactor, clock: FrozenDateTimeFactory
) -> None:
    client = lab.client()
    lab.login(client, ALICE, PASSWORD)
    clock.tick(301)
    r = client.post("/auth/login/2fa", json={"code": factors.code()})
    assert r.status_code == 401, r.text
    assert_signed_out(client)


def test_five_wrong_codes_end_the_pending_login(lab: Lab, factors: TwoFactor) -> None:
    client = lab.client()
    lab.login(client, ALICE, PASSWORD)
    for _ in range(5):
        r = client.post("/auth/login/2fa", json={"code": factors.wrong_code()})
        assert r.status_code == 401, r.text
    r = client.post("/auth/login/2fa", json={"code": factors.code()})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "no_pending_login"


def test_a_wrong_password_never_reaches_the_second_step(lab: Lab, factors: TwoFactor) -> None:
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": "wrong password"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "Invalid email or password"
    assert count(lab, "pending_logins") == 0


# Replays and recovery codes ------------------------------------------------------------------


def test_a_code_signs_in_once(lab: Lab, factors: TwoFactor) -> None:
    code = factors.code()
    expect(sign_in_2fa(lab, ALICE, code=code)[1], 200)
    client, r = sign_in_2fa(lab, ALICE, code=code)
    assert r.status_code == 401, r.text
    assert_signed_out(client)


def test_a_code_used_to_sign_in_cannot_confirm(lab: Lab, factors: TwoFactor) -> None:
    code = factors.code()
    client, r = sign_in_2fa(lab, ALICE, code=code)
    assert r.status_code == 200, r.text
    r = client.post("/auth/confirm", json={"code": code})
    assert r.status_code == 401, r.text
    confirm(client, code=factors.code(steps_ahead=1))  # the next step's code is fine


def test_a_code_used_to_confirm_cannot_be_replayed(
    alice: TestClient, factors: TwoFactor, clock: FrozenDateTimeFactory
) -> None:
    code = factors.code()
    body = confirm(alice, code=code)
    assert body["message"] == "Identity confirmed."
    assert alice.get("/me").json()["reauth"]["method"] == "totp"
    for _ in range(2):  # in the same step, then a step later (still inside the drift window)
        r = alice.post("/auth/confirm", json={"code": code})
        assert r.status_code == 401, r.text
        clock.tick(30)
    confirm(alice, code=factors.code())  # the code of the step we are in now works


def test_a_replayed_code_says_it_was_used_and_costs_no_attempt(
    lab: Lab, alice: TestClient, factors: TwoFactor
) -> None:
    code = factors.code()
    confirm(alice, code=code)
    for _ in range(6):  # more than the five failures that would sign the session out
        r = alice.post("/auth/confirm", json={"code": code})
        assert r.status_code == 401, r.text
        body = r.json()
        assert body["code"] == "code_already_used", body
        assert "already used" in body["error"] and body["attempts_left"] == 5, body
    assert_signed_in(alice)
    assert count(lab, "login_failures") == 0  # nor a guess against the account's code limit
    r = alice.post("/auth/confirm", json={"code": factors.wrong_code()})
    assert r.json() == {
        "error": "Invalid credentials",
        "code": "invalid_credentials",
        "attempts_left": 4,
    }


def test_a_used_recovery_code_says_so(alice: TestClient, factors: TwoFactor) -> None:
    code = factors.recovery_codes[0]
    confirm(alice, recovery_code=code)
    r = alice.post("/auth/confirm", json={"recovery_code": code.upper()})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "code_already_used", r.text
    assert "recovery code was already used" in r.json()["error"]


def test_signing_in_with_a_used_code_says_so_and_counts_attempts_left(
    lab: Lab, factors: TwoFactor
) -> None:
    code = factors.code()
    expect(sign_in_2fa(lab, ALICE, code=code)[1], 200)
    client, r = sign_in_2fa(lab, ALICE, code=code)
    assert r.status_code == 401, r.text
    assert (r.json()["code"], r.json()["attempts_left"]) == ("code_already_used", 5), r.text
    r = client.post("/auth/login/2fa", json={"code": factors.wrong_code()})
    assert (r.json()["code"], r.json()["attempts_left"]) == ("invalid_credentials", 4), r.text


def test_a_code_from_an_older_step_than_the_last_one_is_refused(
    lab: Lab, factors: TwoFactor
) -> None:
    client, r = sign_in_2fa(lab, ALICE, code=factors.code(steps_ahead=1))
    assert r.status_code == 200, r.text
    r = client.post("/auth/confirm", json={"code": factors.code()})
    assert r.status_code == 401, r.text


def test_a_recovery_code_signs_in_once(lab: Lab, alice: TestClient, factors: TwoFactor) -> None:
    code = factors.recovery_codes[0]
    client, r = sign_in_2fa(lab, ALICE, recovery_code=code)
    assert r.status_code == 200, r.text
    assert_signed_in(client)
    client, r = sign_in_2fa(lab, ALICE, recovery_code=code)
    assert r.status_code == 401, r.text
    r = alice.post("/auth/confirm", json={"recovery_code": code})
    assert r.status_code == 401, r.text
    assert count(lab, "recovery_codes", "used_at IS NULL") == 9


def test_a_recovery_code_confirms_once(alice: TestClient, factors: TwoFactor) -> None:
    code = factors.recovery_codes[3]
    confirm(alice, recovery_code=f"  {code.upper()} ")  # typed loosely, still the same code
    r = alice.post("/auth/confirm", json={"recovery_code": code})
    assert r.status_code == 401, r.text


def test_recovery_code_and_code_together_are_refused(lab: Lab, factors: TwoFactor) -> None:
    client = lab.client()
    lab.login(client, ALICE, PASSWORD)
    body = {"code": factors.code(), "recovery_code": factors.recovery_codes[0]}
    r = client.post("/auth/login/2fa", json=body)
    assert r.status_code == 400, r.text
    assert count(lab, "recovery_codes", "used_at IS NULL") == 10


# Turning it off -------------------------------------------------------------------------------


def test_disable_needs_a_recent_confirmation(
    lab: Lab, alice: TestClient, factors: TwoFactor
) -> None:
    assert_reauth_required(alice.post("/me/2fa/disable", json={"code": factors.code()}))
    assert lab.user(ALICE)["totp_enabled"] == 1


def test_disable_needs_the_factor_too(lab: Lab, alice: TestClient, factors: TwoFactor) -> None:
    confirm(alice)
    wrong = (
        {"code": factors.wrong_code()},
        {"recovery_code": "dead-beef-0000"},
        {"password": PASSWORD},
    )
    for body in wrong:
        r = alice.post("/me/2fa/disable", json=body)
        assert 400 <= r.status_code < 500, r.text
    assert lab.user(ALICE)["totp_enabled"] == 1


@pytest.mark.parametrize("factor", ["code", "recovery_code"])
def test_disable_turns_2fa_off(
    lab: Lab, alice: TestClient, factors: TwoFactor, factor: str
) -> None:
    confirm(alice, recovery_code=factors.recovery_codes[1])  # the policy: a second factor
    value = factors.code() if factor == "code" else factors.recovery_codes[0]
    r = alice.post("/me/2fa/disable", json={factor: value})
    assert r.status_code == 200, r.text
    user = lab.user(ALICE)
    assert (user["totp_enabled"], user["totp_secret"]) == (0, None)
    assert count(lab, "recovery_codes") == 0
    assert alice.get("/me").json()["methods"] == ["password"]
    assert lab.login(lab.client(), ALICE, PASSWORD)["two_factor_required"] is False
