"""The audit trail and the security log: what is recorded, for whom, and what never is."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory
from softauthn import SoftAuthenticator

from course_app.security.totp import code_at
from course_kit.lab import PASSWORD, Lab

ALICE = "alice@example.com"
BOB = "bob@example.com"
NEW_PASSWORD = "battery staple"


def confirm(client: TestClient, password: str = PASSWORD) -> None:
    r = client.post("/auth/confirm", json={"password": password})
    assert r.status_code == 200, r.text


def log_of(client: TestClient) -> list[dict[str, Any]]:
    r = client.get("/me/security-log")
    assert r.status_code == 200, r.text
    return r.json()


def events(client: TestClient) -> list[tuple[str, str]]:
    """Oldest first, as ``(event, detail)``."""
    return [(e["event"], e["detail"]) for e in reversed(log_of(client))]


def all_rows(lab: Lab) -> list[str]:
    return [" ".join(str(v) for v in row) for row in lab.query("SELECT * FROM audit_log")]


@pytest.fixture(autouse=True)
def _frozen(clock: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    return clock


def test_sign_ins_and_confirmations_are_recorded(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    assert client.post("/auth/login", json={"email": ALICE, "password": "nope nope"}).is_error
    lab.login(client, ALICE, PASSWORD)
    assert client.post("/auth/confirm", json={"password": "nope nope"}).status_code == 401
    confirm(client)
    assert events(client) == [
        ("account_created", ""),
        ("email_verified", ""),
        ("sign_in_failed", "wrong password"),
        ("signed_in", "password"),
        ("confirmation_failed", "password"),
        ("confirmation_succeeded", "password"),
    ]
    entry = log_of(client)[0]
    assert entry["ip"] == "testclient"
    assert entry["created_at"] == "2026-01-15T09:00:00Z"


def test_every_sensitive_action_is_recorded(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    alice = lab.person(ALICE, PASSWORD)
    other = lab.client()
    lab.login(other, ALICE, PASSWORD)
    confirm(alice)
    org = lab.create_org(alice)

    r = alice.post(f"/orgs/{org}/api-keys", json={"name": "ci"})
    assert r.status_code == 201, r.text
    key = r.json()
    assert alice.delete(f"/orgs/{org}/api-keys/{key['id']}").status_code == 204
    r = alice.put(f"/orgs/{org}/verified-domain", json={"domain": "acme.example"})
    assert r.status_code == 200, r.text
    secret = alice.post("/me/2fa/setup").json()["secret"]
    now = datetime.now(UTC)
    r = alice.post("/me/2fa/enable", json={"code": code_at(secret, now)})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    # Turning it off needs a second factor now that she has one (the step-up policy).
    assert alice.post("/auth/confirm", json={"recovery_code": codes[1]}).status_code == 200
    assert alice.post("/me/2fa/disable", json={"code": "000000"}).status_code == 401
    assert alice.post("/me/2fa/disable", json={"recovery_code": codes[0]}).status_code == 200
    other_id = next(s["id"] for s in alice.get("/me/sessions").json() if not s["current"])
    assert alice.delete(f"/me/sessions/{other_id}").status_code == 204
    r = alice.put("/me/password", json={"new_password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    # Last: an unproven address may not mint keys or enrol factors (issue 11).
    assert alice.put("/me/email", json={"email": "alice@new.example"}).status_code == 200

    recorded = events(alice)[3:]  # after two sign-ins and the confirmation
    assert recorded == [
        ("api_key_created", f"org {org}: key {key['id']} 'ci' ({key['prefix']}…)"),
        ("api_key_revoked", f"org {org}: key {key['id']}"),
        ("org_domain_changed", f"org {org}: acme.example"),
        ("two_factor_setup_started", ""),
        ("two_factor_enabled", ""),
        ("confirmation_succeeded", "recovery_code"),
        ("two_factor_disable_failed", "wrong totp code"),
        ("two_factor_disabled", "with a recovery_code code"),
        ("session_revoked", f"session {other_id}"),
        ("password_changed", "other sessions signed out"),
        ("email_changed", "changed to alice@new.example"),
    ]
    # Nothing secret is ever written down.
    text = "\n".join(all_rows(lab))
    for secret_value in (PASSWORD, NEW_PASSWORD, key["key"], secret, *codes):
        assert secret_value not in text


def test_passkeys_are_recorded(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    confirm(alice)
    authenticator = SoftAuthenticator()
    options = alice.post("/me/passkeys/options").json()
    r = alice.post("/me/passkeys", json={"credential": authenticator.create(options)})
    assert r.status_code == 201, r.text
    passkey_id = r.json()["id"]

    options = alice.post("/auth/confirm/passkey/options").json()
    bad = authenticator.get(options, origin="https://evil.example")
    assert alice.post("/auth/confirm/passkey", json={"credential": bad}).status_code == 401
    options = alice.post("/auth/confirm/passkey/options").json()
    good = authenticator.get(options)
    assert alice.post("/auth/confirm/passkey", json={"credential": good}).status_code == 200

    stranger = lab.client()
    options = stranger.post("/auth/passkey/options").json()
    r = stranger.post("/auth/passkey", json={"credential": authenticator.get(options)})
    assert r.status_code == 200, r.text
    assert alice.delete(f"/me/passkeys/{passkey_id}").status_code == 204

    assert events(alice)[-5:] == [
        ("passkey_added", f"passkey {passkey_id} 'Passkey'"),
        ("confirmation_failed", "passkey"),
        ("confirmation_succeeded", "passkey"),
        ("signed_in", "passkey"),
        ("passkey_removed", f"passkey {passkey_id}"),
    ]


def test_a_change_whose_entry_cannot_be_written_is_not_made(lab: Lab) -> None:
    """Issue 18: the exercise routes' entries were written after the change committed, in a
    transaction of their own (78 changes without an entry over 6 kills). Now an entry that
    cannot be written takes its change down with it, for the students' routes too."""
    alice = lab.person(ALICE, PASSWORD)
    confirm(alice)
    org = lab.create_org(alice)
    lab.execute(
        "CREATE TRIGGER no_more_entries BEFORE INSERT ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'the log cannot take more'); END"
    )
    for r in (
        alice.put("/me/email", json={"email": "alice@new.example"}),
        alice.post(f"/orgs/{org}/api-keys", json={"name": "k"}),
        alice.put("/me/password", json={"new_password": NEW_PASSWORD}),
    ):
        assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    lab.execute("DROP TRIGGER no_more_entries")
    assert lab.user(ALICE) is not None
    assert lab.query("SELECT COUNT(*) FROM api_keys")[0][0] == 0
    lab.login(lab.client(), ALICE, PASSWORD)  # the old password still signs in


def test_an_entry_names_what_its_own_request_wrote(lab: Lab) -> None:
    """The entry is described inside the change's transaction: the address this request
    stored, the key this request inserted (not what the database holds a moment later)."""
    alice = lab.person(ALICE, PASSWORD)
    confirm(alice)
    org = lab.create_org(alice)
    first = alice.post(f"/orgs/{org}/api-keys", json={"name": "first"}).json()
    second = alice.post(f"/orgs/{org}/api-keys", json={"name": "second"}).json()
    assert alice.put("/me/email", json={"email": "alice@one.example"}).status_code == 200
    created = [d for e, d in events(alice) if e == "api_key_created"]
    assert created == [
        f"org {org}: key {first['id']} 'first' ({first['prefix']}…)",
        f"org {org}: key {second['id']} 'second' ({second['prefix']}…)",
    ]
    assert ("email_changed", "changed to alice@one.example") in events(alice)


def test_a_refused_action_leaves_no_entry(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    org = lab.create_org(alice)
    before = events(alice)
    assert alice.put("/me/email", json={"email": "a@new.example"}).status_code == 403
    assert alice.post(f"/orgs/{org}/api-keys", json={"name": "k"}).status_code == 403
    assert alice.delete("/me/sessions/1").status_code == 403
    confirm(alice)
    assert alice.delete("/me/sessions/99999").status_code == 404
    assert alice.delete(f"/orgs/{org}/api-keys/99999").status_code == 404
    assert alice.put("/me/email", json={"email": ALICE}).status_code == 400
    assert events(alice) == [*before, ("confirmation_succeeded", "password")]


def test_the_log_is_private_and_needs_a_session(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    bob = lab.person(BOB, PASSWORD)
    confirm(alice)
    assert all(e["event"] != "confirmation_succeeded" for e in log_of(bob))
    assert lab.client().get("/me/security-log").status_code == 401
    # An API key is not a person: it has no security log.
    org = lab.create_org(alice)
    key = alice.post(f"/orgs/{org}/api-keys", json={"name": "k"}).json()["key"]
    r = lab.client().get("/me/security-log", headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 401, r.text


def test_the_log_shows_the_newest_hundred(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    for _ in range(120):
        confirm(alice)
    entries = log_of(alice)
    assert len(entries) == 100
    assert entries[0]["id"] > entries[-1]["id"]


def test_a_deleted_account_leaves_one_anonymous_entry(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    user_id = lab.user(ALICE)["id"]
    confirm(alice)
    assert alice.delete("/me").status_code == 204
    rows = lab.query("SELECT user_id, event, detail FROM audit_log")
    assert [tuple(r) for r in rows] == [(None, "account_deleted", f"user {user_id}")]


def test_signing_out_is_recorded(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    assert alice.post("/auth/logout").status_code == 204
    client = lab.client()
    lab.login(client, ALICE, PASSWORD)
    assert events(client)[-2:] == [("signed_out", ""), ("signed_in", "password")]


# Notices to the account's address ------------------------------------------------------------


def subjects(lab: Lab, address: str) -> list[str]:
    return [m["subject"] for m in lab.mail(address)]


def test_email_and_password_changes_notify_the_old_address(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    confirm(alice)
    assert alice.put("/me/password", json={"new_password": NEW_PASSWORD}).status_code == 200
    assert alice.put("/me/email", json={"email": "alice@new.example"}).status_code == 200
    assert subjects(lab, ALICE)[-2:] == [
        "Your password was changed",
        "Your email address was changed",
    ]


def test_a_password_reset_and_turning_2fa_off_notify_the_account(lab: Lab) -> None:
    alice = lab.person(ALICE, PASSWORD)
    assert lab.client().post("/auth/password-reset", json={"email": ALICE}).status_code == 202
    token = lab.last_link(ALICE).rsplit("token=", 1)[1]
    r = lab.client().post(
        "/auth/password-reset/complete", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert subjects(lab, ALICE)[-1] == "Your password was reset"

    lab.login(alice, ALICE, NEW_PASSWORD)
    confirm(alice, NEW_PASSWORD)
    secret = alice.post("/me/2fa/setup").json()["secret"]
    codes = alice.post("/me/2fa/enable", json={"code": code_at(secret, datetime.now(UTC))}).json()
    r = alice.post("/auth/confirm", json={"recovery_code": codes["recovery_codes"][1]})
    assert r.status_code == 200, r.text  # turning it off takes a second factor
    r = alice.post("/me/2fa/disable", json={"recovery_code": codes["recovery_codes"][0]})
    assert r.status_code == 200, r.text
    assert subjects(lab, ALICE)[-1] == "Two-factor authentication was turned off"
    assert [e for e, _ in events(alice)][-7:] == [
        "password_reset",
        "signed_in",
        "confirmation_succeeded",
        "two_factor_setup_started",
        "two_factor_enabled",
        "confirmation_succeeded",
        "two_factor_disabled",
    ]
