"""Organisations: roles and permissions (checked before step-up), members, domain auto-join."""

import pytest
from app_helpers import (
    ALICE,
    BOB,
    PASSWORD,
    assert_forbidden,
    assert_reauth_required,
    confirm,
    count,
    expect,
)
from fastapi.testclient import TestClient

from course_app.permissions import ROLE_PERMISSIONS
from course_kit.lab import Lab

CAROL = "carol@example.com"


def test_the_role_table() -> None:
    assert ROLE_PERMISSIONS["owner"] == {"org:settings", "org:members", "org:read"}
    assert ROLE_PERMISSIONS["admin"] == {"org:settings", "org:members", "org:read"}
    assert ROLE_PERMISSIONS["member"] == {"org:read"}


def test_creating_an_org_makes_you_its_owner(lab: Lab, alice: TestClient) -> None:
    r = alice.post("/orgs", json={"name": "  Acme  "})
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["name"] == "Acme" and org["role"] == "owner"
    r = alice.get("/orgs")
    assert r.status_code == 200, r.text
    assert r.json() == [{"id": org["id"], "name": "Acme", "role": "owner"}]
    r = alice.get(f"/orgs/{org['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": org["id"], "name": "Acme", "verified_domain": None, "role": "owner"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_an_org_needs_a_name(lab: Lab, alice: TestClient, name: str) -> None:
    r = alice.post("/orgs", json={"name": name})
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()
    assert count(lab, "orgs") == 0


def test_orgs_need_a_session(lab: Lab) -> None:
    client = lab.client()
    for r in (client.get("/orgs"), client.post("/orgs", json={"name": "Acme"})):
        assert r.status_code == 401, r.text
    assert count(lab, "orgs") == 0


def test_members_see_the_org_outsiders_get_a_404(lab: Lab, acme: int, bob: TestClient) -> None:
    r = bob.get(f"/orgs/{acme}")
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "member"
    assert bob.get("/orgs").json() == [{"id": acme, "name": "Acme", "role": "member"}]

    carol = lab.person(CAROL, PASSWORD)
    for path in (f"/orgs/{acme}", "/orgs/999"):
        r = carol.get(path)
        assert r.status_code == 404, r.text
        assert r.json() == {"error": "Organization not found", "code": "not_found"}
    assert carol.get("/orgs").json() == []


def test_a_member_cannot_add_members(lab: Lab, acme: int, bob: TestClient) -> None:
    lab.signup(CAROL, PASSWORD)
    confirm(bob)
    assert_forbidden(bob.post(f"/orgs/{acme}/members", json={"email": CAROL}))
    assert count(lab, "memberships") == 2


def test_an_outsider_cannot_add_members(lab: Lab, acme: int) -> None:
    carol = lab.person(CAROL, PASSWORD)
    r = carol.post(f"/orgs/{acme}/members", json={"email": CAROL, "role": "admin"})
    assert r.status_code == 404, r.text
    assert count(lab, "memberships") == 2


def test_an_admin_invites_members(lab: Lab, alice: TestClient, bob: TestClient, acme: int) -> None:
    carol = lab.person(CAROL, PASSWORD)
    lab.add_member(alice, acme, CAROL, role="admin")
    assert carol.get(f"/orgs/{acme}").json()["role"] == "admin"
    dave = lab.person("dave@example.com", PASSWORD)
    confirm(carol)
    r = carol.post(f"/orgs/{acme}/members", json={"email": "DAVE@example.com"})
    assert r.status_code == 202, r.text
    assert r.json()["role"] == "member" and r.json()["email"] == "DAVE@example.com"
    invitation = expect(dave.get("/me/invitations"), 200).json()[0]
    assert invitation["org_name"] == "Acme" and invitation["role"] == "member"
    expect(dave.post(f"/me/invitations/{invitation['id']}/accept"), 201)
    assert dave.get(f"/orgs/{acme}").json()["role"] == "member"
    r = carol.patch(f"/orgs/{acme}/members/{lab.user(BOB)['id']}", json={"role": "admin"})
    assert r.status_code == 200, r.text
    assert bob.get(f"/orgs/{acme}").json()["role"] == "admin"


def test_an_admin_cannot_change_the_owners_role(lab: Lab, alice: TestClient, acme: int) -> None:
    carol = lab.person(CAROL, PASSWORD)
    lab.add_member(alice, acme, CAROL, role="admin")
    confirm(carol)
    r = carol.patch(f"/orgs/{acme}/members/{lab.user(ALICE)['id']}", json={"role": "member"})
    assert r.status_code == 403, r.text
    assert alice.get(f"/orgs/{acme}").json()["role"] == "owner"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"email": CAROL, "role": "superuser"},
        {"email": BOB},  # already a member: that is a role change
    ],
)
def test_inviting_refuses_bad_requests(lab: Lab, alice: TestClient, acme: int, body: dict) -> None:
    lab.signup(CAROL, PASSWORD)
    confirm(alice)
    r = alice.post(f"/orgs/{acme}/members", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()
    assert count(lab, "memberships") == 2
    assert count(lab, "invitations") == 0


# The verified domain: org:settings, then step-up --------------------------------------------


def set_domain(client: TestClient, org_id: int, domain: str | None) -> object:
    return client.put(f"/orgs/{org_id}/verified-domain", json={"domain": domain})


def test_setting_the_domain_needs_a_recent_confirmation(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    assert_reauth_required(set_domain(alice, acme, "acme.test"))
    confirm(alice)
    r = set_domain(alice, acme, " ACME.test ")
    assert r.status_code == 200, r.text
    assert r.json()["verified_domain"] == "acme.test"
    r = set_domain(alice, acme, None)
    assert r.status_code == 200, r.text
    assert r.json()["verified_domain"] is None


def test_a_member_is_forbidden_before_being_asked_to_confirm(acme: int, bob: TestClient) -> None:
    assert_forbidden(set_domain(bob, acme, "evil.test"))  # stale session: still "forbidden"
    confirm(bob)
    assert_forbidden(set_domain(bob, acme, "evil.test"))


def test_an_outsider_gets_a_404_for_the_domain(lab: Lab, acme: int) -> None:
    carol = lab.person(CAROL, PASSWORD)
    confirm(carol)
    r = set_domain(carol, acme, "evil.test")
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("domain", ["not a domain", "acme", "-acme.test", "a@b.test"])
def test_an_invalid_domain_is_a_400(lab: Lab, alice: TestClient, acme: int, domain: str) -> None:
    confirm(alice)
    r = set_domain(alice, acme, domain)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "A valid domain name is required"
    assert lab.query("SELECT verified_domain FROM orgs")[0][0] is None


# Joining by domain: only a verified address at the domain --------------------------------------


@pytest.fixture
def acme_domain(alice: TestClient, acme: int) -> int:
    confirm(alice)
    expect(set_domain(alice, acme, "acme.test"), 200)
    return acme


def test_a_verified_address_at_the_domain_joins(lab: Lab, acme_domain: int) -> None:
    dave = lab.person("Dave@ACME.test", PASSWORD)
    r = dave.post(f"/orgs/{acme_domain}/join")
    assert r.status_code == 201, r.text
    assert dave.get(f"/orgs/{acme_domain}").json()["role"] == "member"
    r = dave.post(f"/orgs/{acme_domain}/join")
    assert r.status_code == 409, r.text


def test_an_unverified_address_cannot_join(lab: Lab, acme_domain: int) -> None:
    dave = lab.person("dave@acme.test", PASSWORD, verified=False)
    r = dave.post(f"/orgs/{acme_domain}/join")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "email_unverified"
    expect(dave.get(f"/orgs/{acme_domain}"), 404)


@pytest.mark.parametrize(
    "email",
    ["dave@example.com", "dave@evil-acme.test", "dave@acme.test.evil.com", "dave@sub.acme.test"],
)
def test_other_domains_cannot_join(lab: Lab, acme_domain: int, email: str) -> None:
    dave = lab.person(email, PASSWORD)
    r = dave.post(f"/orgs/{acme_domain}/join")
    assert r.status_code == 403, r.text
    assert count(lab, "memberships") == 2


def test_an_org_without_a_domain_cannot_be_joined(lab: Lab, acme: int) -> None:
    dave = lab.person("dave@acme.test", PASSWORD)
    for org_id in (acme, 999):
        r = dave.post(f"/orgs/{org_id}/join")
        assert r.status_code == 404, r.text
