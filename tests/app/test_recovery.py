"""Account recovery and unproven addresses (issue 11, hole 2), written as the attacks.

- A typo'd (or someone else's) new address never receives recovery mail (notebook 04's story).
- An attacker who signed up with the victim's address loses the account to the inbox's owner:
  the reset proves the inbox, signs everyone out and removes whatever was set up before.
"""

from app_helpers import ALICE, PASSWORD, assert_signed_out, confirm, count, expect
from fastapi.testclient import TestClient

from course_kit.lab import Lab, token_of

VICTIM = "victim@corp.test"
NEW_PASSWORD = "the inbox owner's own"


def request_reset(lab: Lab, email: str) -> None:
    expect(lab.client().post("/auth/password-reset", json={"email": email}), 202)


def reset_links(lab: Lab, email: str) -> list[str]:
    return [m["link"] for m in lab.mail(email) if m["subject"] == "Reset your password"]


def complete(lab: Lab, link: str, password: str = NEW_PASSWORD):
    return lab.client().post(
        "/auth/password-reset/complete", json={"token": token_of(link), "new_password": password}
    )


def can_sign_in(lab: Lab, email: str, password: str) -> bool:
    r = lab.client().post("/auth/login", json={"email": email, "password": password})
    return r.status_code == 200


def test_a_typo_in_a_new_address_receives_no_recovery_mail(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    expect(alice.put("/me/email", json={"email": "alice@example.orq"}), 200)
    request_reset(lab, "alice@example.orq")  # the stranger who owns example.orq asks
    assert reset_links(lab, "alice@example.orq") == []
    assert reset_links(lab, ALICE) == []  # nor does the old address (ex04: statement 8)
    assert count(lab, "email_tokens", "purpose = 'reset_password'") == 0


def test_a_reset_link_dies_when_its_address_stops_being_proven(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, ALICE)
    [link] = reset_links(lab, ALICE)
    confirm(alice)
    expect(alice.put("/me/email", json={"email": "alice@other.example"}), 200)
    expect(alice.put("/me/email", json={"email": ALICE}), 200)  # back, but unproven now
    r = complete(lab, link)
    assert r.status_code == 400 and r.json()["code"] == "stale_token", r.text
    assert can_sign_in(lab, ALICE, PASSWORD)


def test_the_inbox_owner_claims_an_account_squatted_at_their_address(lab: Lab) -> None:
    attacker = lab.person(VICTIM, "attacker's password", verified=False)
    request_reset(lab, VICTIM)  # the real owner, who cannot sign up: the address is taken
    [link] = reset_links(lab, VICTIM)
    assert "never verified" in lab.mail(VICTIM)[-1]["body"]
    expect(complete(lab, link), 200)
    assert_signed_out(attacker)
    assert not can_sign_in(lab, VICTIM, "attacker's password")
    assert can_sign_in(lab, VICTIM, NEW_PASSWORD)
    row = lab.user(VICTIM)
    assert row is not None and row["email_verified"] == 1
    assert count(lab, "signup_claims") == 0


def test_the_claim_removes_every_factor_set_up_before_the_inbox_was_proven(lab: Lab) -> None:
    """Defence in depth: unverified accounts cannot enrol factors any more, but an account
    that did (before this rule, or by a bug) must not keep them past the claim."""
    lab.person(VICTIM, "attacker's password", verified=False)
    user_id = lab.user(VICTIM)["id"]
    with lab.db() as db:  # what an attacker could set up before issue 11
        db.execute(
            "UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP', totp_enabled = 1 WHERE id = ?",
            (user_id,),
        )
        db.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, 'x')", (user_id,))
        db.execute(
            "INSERT INTO passkeys (user_id, credential_id, public_key, name, created_at)"
            " VALUES (?, 'cred', x'00', 'attacker', '2026-01-01T00:00:00Z')",
            (user_id,),
        )
        db.execute("INSERT INTO orgs (id, name, created_at) VALUES (7, 'Evil', '2026-01-01')")
        db.execute("INSERT INTO memberships VALUES (7, ?, 'owner')", (user_id,))
    request_reset(lab, VICTIM)
    expect(complete(lab, reset_links(lab, VICTIM)[-1]), 200)
    row = lab.user(VICTIM)
    assert row["totp_enabled"] == 0 and row["totp_secret"] is None
    for table in ("recovery_codes", "passkeys", "memberships"):
        assert count(lab, table, "user_id = ?", user_id) == 0, table
    r = lab.client().post("/auth/login", json={"email": VICTIM, "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["two_factor_required"] is False, r.text


def test_verifying_ends_the_claim(lab: Lab) -> None:
    lab.signup(VICTIM, PASSWORD)  # clicks the verification link
    assert count(lab, "signup_claims") == 0
    request_reset(lab, VICTIM)
    assert "never verified" not in lab.mail(VICTIM)[-1]["body"]
