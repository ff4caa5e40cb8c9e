"""API keys: minted and revoked by a recently confirmed session with ``org:settings``; a key
(``Authorization: Bearer``) can read its org and can never mint or revoke keys."""

import hashlib

import pytest
from app_helpers import (
    PASSWORD,
    assert_forbidden,
    assert_reauth_required,
    confirm,
    count,
    expect,
    with_cookie,
)
from fastapi.testclient import TestClient

from course_kit.lab import Lab


@pytest.fixture
def key(alice: TestClient, acme: int) -> dict:
    """A key minted by Alice (who confirmed for it)."""
    confirm(alice)
    r = alice.post(f"/orgs/{acme}/api-keys", json={"name": "ci"})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(lab: Lab, secret: str) -> TestClient:
    """A script: no cookies, only the key."""
    client = lab.client()
    client.headers["authorization"] = f"Bearer {secret}"
    return client


def test_minting_needs_a_recent_confirmation(lab: Lab, alice: TestClient, acme: int) -> None:
    assert_reauth_required(alice.post(f"/orgs/{acme}/api-keys", json={"name": "ci"}))
    assert count(lab, "api_keys") == 0


def test_the_secret_is_shown_once_and_stored_hashed(
    lab: Lab, alice: TestClient, acme: int, key: dict
) -> None:
    assert key["key"].startswith(key["prefix"])
    [row] = lab.query("SELECT * FROM api_keys")
    assert row["key_hash"] == hashlib.sha256(key["key"].encode()).hexdigest()
    assert key["key"] not in [str(value) for value in tuple(row)]
    r = alice.get(f"/orgs/{acme}/api-keys")
    assert r.status_code == 200, r.text
    [listed] = r.json()
    assert listed["prefix"] == key["prefix"] and listed["name"] == "ci"
    assert key["key"] not in r.text


def test_a_key_reads_its_org(lab: Lab, acme: int, key: dict) -> None:
    r = bearer(lab, key["key"]).get("/api/org")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": acme, "name": "Acme", "key_id": key["id"]}
    assert lab.query("SELECT last_used_at FROM api_keys")[0][0] is not None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Bearer sk_not_a_key", "Basic {key}", "Token {key}", "{key}"],
)
def test_no_valid_key_no_access(lab: Lab, key: dict, header: str | None) -> None:
    client = lab.client()
    if header is not None:
        client.headers["authorization"] = header.format(key=key["key"])
    r = client.get("/api/org")
    assert r.status_code == 401, r.text
    assert "error" in r.json()


def test_a_key_can_never_mint_or_revoke_keys(lab: Lab, acme: int, key: dict) -> None:
    script = bearer(lab, key["key"])
    r = script.post(f"/orgs/{acme}/api-keys", json={"name": "escalate"})
    assert r.status_code == 401, r.text
    r = script.delete(f"/orgs/{acme}/api-keys/{key['id']}")
    assert r.status_code == 401, r.text
    r = script.post("/auth/confirm", json={"password": PASSWORD})
    assert r.status_code == 401, r.text  # a key has no session to stamp
    assert count(lab, "api_keys", "revoked_at IS NULL") == 1
    expect(script.get("/api/org"), 200)


def test_a_key_is_not_a_session_cookie(lab: Lab, key: dict) -> None:
    r = with_cookie(lab, key["key"]).get("/me")
    assert r.status_code == 401, r.text


def test_revoking_needs_a_recent_confirmation(
    lab: Lab, alice: TestClient, acme: int, key: dict, clock
) -> None:
    clock.tick(301)
    assert_reauth_required(alice.delete(f"/orgs/{acme}/api-keys/{key['id']}"))
    expect(bearer(lab, key["key"]).get("/api/org"), 200)
    confirm(alice)
    r = alice.delete(f"/orgs/{acme}/api-keys/{key['id']}")
    assert r.status_code == 204, r.text
    r = bearer(lab, key["key"]).get("/api/org")
    assert r.status_code == 401, r.text
    r = alice.delete(f"/orgs/{acme}/api-keys/{key['id']}")
    assert r.status_code == 404, r.text


def test_a_member_is_forbidden_not_asked_to_confirm(lab: Lab, acme: int, bob: TestClient) -> None:
    """Permission before step-up: confirming could never help Bob, so he is not asked to."""
    assert_forbidden(bob.post(f"/orgs/{acme}/api-keys", json={"name": "mine"}))
    confirm(bob)
    assert_forbidden(bob.post(f"/orgs/{acme}/api-keys", json={"name": "mine"}))
    assert_forbidden(bob.get(f"/orgs/{acme}/api-keys"))
    assert count(lab, "api_keys") == 0


def test_a_member_cannot_revoke(lab: Lab, acme: int, bob: TestClient, key: dict) -> None:
    confirm(bob)
    assert_forbidden(bob.delete(f"/orgs/{acme}/api-keys/{key['id']}"))
    assert count(lab, "api_keys", "revoked_at IS NULL") == 1


def test_an_outsider_gets_a_404(lab: Lab, acme: int, key: dict) -> None:
    carol = lab.person("carol@example.com", PASSWORD)
    confirm(carol)
    for r in (
        carol.post(f"/orgs/{acme}/api-keys", json={"name": "mine"}),
        carol.delete(f"/orgs/{acme}/api-keys/{key['id']}"),
        carol.get(f"/orgs/{acme}/api-keys"),
    ):
        assert r.status_code == 404, r.text
    assert count(lab, "api_keys") == 1


def test_a_key_of_another_org_cannot_be_revoked_here(
    lab: Lab, alice: TestClient, acme: int, key: dict
) -> None:
    other = lab.create_org(alice, "Other")
    r = alice.delete(f"/orgs/{other}/api-keys/{key['id']}")
    assert r.status_code == 404, r.text
    expect(bearer(lab, key["key"]).get("/api/org"), 200)
