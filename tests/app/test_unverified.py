"""Pre-account takeover (issue 11, hole 2): an attacker signs up with the victim's address,
never verifies it, and builds on the account (a second factor, a passkey, an org, an API key)
so that the victim's later password reset leaves the attacker a way in. An unverified account
can build nothing."""

from app_helpers import PASSWORD, confirm, expect
from fastapi.testclient import TestClient

from course_kit.lab import Lab

VICTIM = "victim@corp.test"


def squatter(lab: Lab) -> TestClient:
    """The attacker, signed in to an account at the victim's address, confirmed just now."""
    client = lab.person(VICTIM, PASSWORD, verified=False)
    confirm(client)
    return client


def assert_unverified(r) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "email_unverified", r.text


def test_an_unverified_account_cannot_enrol_totp(lab: Lab) -> None:
    attacker = squatter(lab)
    assert_unverified(attacker.post("/me/2fa/setup"))
    assert_unverified(attacker.post("/me/2fa/enable", json={"code": "123456"}))
    row = lab.user(VICTIM)
    assert row is not None and row["totp_secret"] is None and not row["totp_enabled"]


def test_an_unverified_account_cannot_register_a_passkey(lab: Lab) -> None:
    attacker = squatter(lab)
    assert_unverified(attacker.post("/me/passkeys/options"))
    assert_unverified(attacker.post("/me/passkeys", json={"credential": {}, "name": "mine"}))
    assert lab.query("SELECT COUNT(*) FROM webauthn_challenges")[0][0] == 0


def test_an_unverified_account_cannot_create_an_org(lab: Lab) -> None:
    attacker = squatter(lab)
    assert_unverified(attacker.post("/orgs", json={"name": "Corp"}))
    assert lab.query("SELECT COUNT(*) FROM orgs")[0][0] == 0


def test_an_address_that_became_unverified_cannot_mint_api_keys(lab: Lab) -> None:
    """A member who moved to an unproven address keeps reading the org, but an API key outlives
    every session: minting one (exercise 2's route, through OrgSettingsMember) waits for the
    new address to be proven."""
    owner = lab.person("owner@corp.test", PASSWORD)
    org_id = lab.create_org(owner, "Corp")
    confirm(owner)
    expect(owner.put("/me/email", json={"email": "owner@typo.test"}), 200)
    expect(owner.get(f"/orgs/{org_id}"), 200)
    assert_unverified(owner.post(f"/orgs/{org_id}/api-keys", json={"name": "deploy"}))
    assert_unverified(owner.get(f"/orgs/{org_id}/api-keys"))
    assert_unverified(owner.post(f"/orgs/{org_id}/members", json={"email": "x@corp.test"}))
    assert lab.query("SELECT COUNT(*) FROM api_keys")[0][0] == 0


def test_verifying_lifts_the_restriction(lab: Lab) -> None:
    client = lab.signup(VICTIM, PASSWORD, verified=False)
    lab.login(client, VICTIM, PASSWORD)
    confirm(client)
    assert_unverified(client.post("/me/2fa/setup"))
    expect(client.get(lab.last_link(VICTIM).removeprefix(lab.settings.origin)), 200)
    expect(client.post("/me/2fa/setup"), 200)
