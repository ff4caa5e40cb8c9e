"""Graded tests for exercise 2: step-up on API key creation (``POST /orgs/{id}/api-keys``)."""

from dataclasses import dataclass

import pytest
from httpx import Client

from course_app.security.tokens import hash_token
from course_kit.testing import PASSWORD, Clocks, Lab, expect, expect_error, expect_status, task


@dataclass
class Acme:
    lab: Lab
    org_id: int
    owner: Client
    admin: Client
    member: Client
    outsider: Client

    def keys(self) -> list:
        return self.lab.query("SELECT * FROM api_keys WHERE org_id = ?", self.org_id)


@pytest.fixture
def acme(make_lab, clock: Clocks) -> Acme:
    lab = make_lab("ex02")
    owner = lab.person("alice@example.com")
    org_id = lab.create_org(owner, "Acme")
    admin = lab.person("dana@example.com")
    member = lab.person("bob@example.com")
    lab.add_member(owner, org_id, "dana@example.com", "admin")
    lab.add_member(owner, org_id, "bob@example.com", "member")
    outsider = lab.person("eve@example.com")
    return Acme(lab, org_id, owner, admin, member, outsider)


def confirm(client: Client) -> None:
    expect_status(client.post("/auth/confirm", json={"password": PASSWORD}), 200, "confirming")


def insert_key(acme: Acme, secret: str = "sk_test_secret_for_grading") -> int:
    """A key put straight into the table, so task 1 does not depend on task 2."""
    return acme.lab.execute(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_at)"
        " VALUES (?, 'ci', 'sk_test', ?, '2026-01-01T00:00:00Z')",
        acme.org_id,
        hash_token(secret),
    )


# --- task 1: may you? → prove it recently → act ------------------------------------------------


@task("ex02", 1)
def test_owner_with_a_stale_session_is_asked_to_confirm(acme: Acme) -> None:
    r = acme.owner.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "deploy"})
    body = expect_status(
        r, 403, "POST /orgs/{id}/api-keys from the owner's unconfirmed session", "reauth_required"
    )
    expect(body.get("max_age") == 300, f"the 403 body should carry max_age: {body}")
    expect(acme.keys() == [], "a key was stored although the answer was 403")


@task("ex02", 1)
def test_confirming_one_session_does_not_unlock_another(acme: Acme) -> None:
    phone = acme.lab.client()
    acme.lab.login(phone, "alice@example.com", PASSWORD)
    confirm(acme.owner)  # the owner confirms on the laptop…
    r = phone.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "stolen"})
    expect_status(
        r,
        403,
        "POST /orgs/{id}/api-keys from the owner's other, unconfirmed session (a stolen cookie)",
        "reauth_required",
    )
    expect(acme.keys() == [], "a key was minted from a session that never confirmed")


@task("ex02", 1)
def test_member_without_org_settings_is_forbidden_without_being_asked(acme: Acme) -> None:
    r = acme.member.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "mine"})
    expect_status(
        r, 403, "POST /orgs/{id}/api-keys from a plain member's unconfirmed session", "forbidden"
    )


@task("ex02", 1)
def test_member_stays_forbidden_even_after_confirming(acme: Acme) -> None:
    confirm(acme.member)
    r = acme.member.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "mine"})
    expect_error(r, 403, "Forbidden", "POST /orgs/{id}/api-keys from a confirmed plain member")
    expect(acme.keys() == [], "a plain member managed to store a key")


@task("ex02", 1)
def test_outsiders_and_unknown_orgs_get_404(acme: Acme) -> None:
    confirm(acme.outsider)
    r = acme.outsider.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "x"})
    expect_status(r, 404, "POST /orgs/{id}/api-keys from someone outside the org")
    confirm(acme.owner)
    r = acme.owner.post("/orgs/9999/api-keys", json={"name": "x"})
    expect_status(r, 404, "POST /orgs/9999/api-keys (no such org)")


@task("ex02", 1)
def test_no_session_no_key(acme: Acme) -> None:
    r = acme.lab.client().post(f"/orgs/{acme.org_id}/api-keys", json={"name": "x"})
    expect_status(r, 401, "POST /orgs/{id}/api-keys without a session")


# --- task 2: mint the key ------------------------------------------------------------------------


@task("ex02", 2)
def test_confirmed_owner_gets_the_key_once(acme: Acme) -> None:
    confirm(acme.owner)
    r = acme.owner.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "deploy"})
    body = expect_status(r, 201, "POST /orgs/{id}/api-keys right after confirming")
    expect(set(body) >= {"id", "name", "prefix", "key"}, f"201 body lacks fields: {body}")
    expect(body["name"] == "deploy", f"name should be 'deploy': {body}")
    expect(body["key"].startswith(body["prefix"]), f"the key should start with its prefix: {body}")
    expect(len(body["key"]) >= 32, "the key is too short to be a secret")


@task("ex02", 2)
def test_only_the_hash_is_stored(acme: Acme) -> None:
    confirm(acme.admin)
    key = acme.admin.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "ci"}).json()["key"]
    rows = acme.keys()
    expect(len(rows) == 1, f"expected one stored key, found {len(rows)}")
    stored = [str(v) for v in dict(rows[0]).values()]
    expect(key not in stored, "the secret itself is stored in api_keys: store only its hash")
    expect(rows[0]["key_hash"] == hash_token(key), "key_hash should be hash_token(secret)")


@task("ex02", 2)
def test_the_key_works_and_is_listed_without_its_secret(acme: Acme) -> None:
    confirm(acme.owner)
    key = acme.owner.post(f"/orgs/{acme.org_id}/api-keys", json={"name": "ci"}).json()["key"]
    bearer = acme.lab.client()
    bearer.headers["authorization"] = f"Bearer {key}"
    body = expect_status(bearer.get("/api/org"), 200, "GET /api/org with the new key")
    expect(body.get("id") == acme.org_id, f"the key should belong to Acme: {body}")
    listing = acme.owner.get(f"/orgs/{acme.org_id}/api-keys")
    expect_status(listing, 200, "GET /orgs/{id}/api-keys")
    expect(key not in listing.text, "the key list shows the secret")


# --- task 3: revoking ---------------------------------------------------------------------------


@task("ex02", 3)
def test_revoking_needs_a_recent_confirmation(acme: Acme) -> None:
    key_id = insert_key(acme)
    r = acme.owner.delete(f"/orgs/{acme.org_id}/api-keys/{key_id}")
    expect_status(
        r, 403, "DELETE /orgs/{id}/api-keys/{key} from an unconfirmed session", "reauth_required"
    )
    expect(acme.keys()[0]["revoked_at"] is None, "the key was revoked although the answer was 403")


@task("ex02", 3)
def test_members_cannot_revoke(acme: Acme) -> None:
    key_id = insert_key(acme)
    r = acme.member.delete(f"/orgs/{acme.org_id}/api-keys/{key_id}")
    expect_status(r, 403, "DELETE /orgs/{id}/api-keys/{key} from a plain member", "forbidden")


@task("ex02", 3)
def test_revoked_keys_stop_working(acme: Acme) -> None:
    key_id = insert_key(acme, "sk_test_secret_for_grading")
    confirm(acme.owner)
    r = acme.owner.delete(f"/orgs/{acme.org_id}/api-keys/{key_id}")
    expect_status(r, 204, "DELETE /orgs/{id}/api-keys/{key} after confirming")
    bearer = acme.lab.client()
    bearer.headers["authorization"] = "Bearer sk_test_secret_for_grading"
    expect_status(bearer.get("/api/org"), 401, "GET /api/org with a revoked key")


@task("ex02", 3)
def test_unknown_or_foreign_keys_are_404(acme: Acme) -> None:
    other_org = acme.lab.create_org(acme.outsider, "Globex")
    foreign = acme.lab.execute(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_at)"
        " VALUES (?, 'theirs', 'sk_x', 'h', '2026-01-01T00:00:00Z')",
        other_org,
    )
    confirm(acme.owner)
    r = acme.owner.delete(f"/orgs/{acme.org_id}/api-keys/{foreign}")
    expect_error(r, 404, "API key not found", "DELETE of another org's key")
    r = acme.owner.delete(f"/orgs/{acme.org_id}/api-keys/424242")
    expect_error(r, 404, "API key not found", "DELETE of a key that does not exist")
