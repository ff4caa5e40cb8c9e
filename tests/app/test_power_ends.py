"""Issue 18, memberships, each written as the attack found from outside: power that outlived
its removal, invitations as a mail cannon, an admin rewriting an owner's invitation, and the
order of the answers on every membership route."""

from app_helpers import (
    ALICE,
    BOB,
    EVE,
    PASSWORD,
    assert_forbidden,
    assert_reauth_required,
    confirm,
    count,
    expect,
    invite,
    user_id,
)
from fastapi.testclient import TestClient

from course_kit.lab import Lab

MALLORY = "mallory@evil.test"
DANA = "dana@example.com"


def mint_key(client: TestClient, org_id: int) -> str:
    r = client.post(f"/orgs/{org_id}/api-keys", json={"name": "backdoor"})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def key_works(lab: Lab, secret: str) -> int:
    return lab.client().get("/api/org", headers={"authorization": f"Bearer {secret}"}).status_code


# Medium 1: power outlives removal -------------------------------------------------------------


def test_a_removed_intruder_leaves_no_invitation_and_no_working_key(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    """Eve became owner; she invites her second account as owner and mints a key. Alice
    removes her: the pending invitation can no longer be accepted, the key no longer answers."""
    lab.add_member(alice, acme, EVE, "owner")
    confirm(eve)
    expect(invite(eve, acme, MALLORY, "owner"), 202)
    key = mint_key(eve, acme)
    assert key_works(lab, key) == 200

    confirm(alice)
    expect(alice.delete(f"/orgs/{acme}/members/{user_id(lab, EVE)}"), 204)

    mallory = lab.person(MALLORY, PASSWORD)
    assert expect(mallory.get("/me/invitations"), 200).json() == []
    [row] = lab.query("SELECT id FROM orgs")
    assert count(lab, "invitations", "org_id = ?", row["id"]) == 0
    assert key_works(lab, key) == 401
    entries = [e["detail"] for e in alice.get("/me/security-log").json()]
    assert any("invitation of mallory@evil.test as owner" in d and "API key" in d for d in entries)


def test_a_demoted_admin_loses_the_keys_and_invitations_of_the_role(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    confirm(dana)
    expect(invite(dana, acme, EVE, "admin"), 202)
    key = mint_key(dana, acme)
    confirm(alice)
    expect(alice.patch(f"/orgs/{acme}/members/{user_id(lab, DANA)}", json={"role": "member"}), 200)
    assert key_works(lab, key) == 401
    assert count(lab, "invitations") == 0


def test_an_owner_made_admin_keeps_what_an_admin_may_hold(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    """Down one step only: the owner invitation goes, the admin's keys and invitations stay."""
    olga = lab.person("olga@example.com", PASSWORD)
    lab.add_member(alice, acme, "olga@example.com", "owner")
    confirm(olga)
    expect(invite(olga, acme, EVE, "owner"), 202)
    expect(invite(olga, acme, DANA, "admin"), 202)
    key = mint_key(olga, acme)
    confirm(alice)
    r = alice.patch(
        f"/orgs/{acme}/members/{user_id(lab, 'olga@example.com')}", json={"role": "admin"}
    )
    expect(r, 200)
    assert key_works(lab, key) == 200
    assert [row["email"] for row in lab.query("SELECT email FROM invitations")] == [DANA]


def test_a_member_who_leaves_takes_their_keys_along(lab: Lab, alice: TestClient, acme: int) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    confirm(dana)
    key = mint_key(dana, acme)
    expect(dana.delete(f"/orgs/{acme}/members/{user_id(lab, DANA)}"), 204)
    assert key_works(lab, key) == 401


def test_a_deleted_account_leaves_no_working_key(lab: Lab, alice: TestClient, acme: int) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    confirm(dana)
    key = mint_key(dana, acme)
    expect(dana.delete("/me"), 204)
    assert key_works(lab, key) == 401


# Low 2: an admin rewriting an owner's invitation ----------------------------------------------


def test_an_admin_cannot_re_invite_over_an_owner_invitation(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    """The admin's re-invitation as member used to replace the owner's invitation to be owner,
    which the admin could then delete; revoking it directly was already refused."""
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    confirm(alice)
    expect(invite(alice, acme, EVE, "owner"), 202)
    confirm(dana)
    r = invite(dana, acme, EVE, "member")
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    [row] = lab.query("SELECT id, role, invited_by FROM invitations")
    assert (row["role"], row["invited_by"]) == ("owner", user_id(lab, ALICE))
    r = dana.delete(f"/orgs/{acme}/invitations/{row['id']}")
    assert r.status_code == 403, r.text
    assert count(lab, "invitations") == 1


# Medium 2: invitations as a mail cannon --------------------------------------------------------


def test_thirty_invitations_to_one_address_send_three_mails(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    confirm(alice)
    answers = [invite(alice, acme, EVE).status_code for _ in range(30)]
    assert answers == [202] * 3 + [429] * 27
    r = invite(alice, acme, EVE)
    assert r.json()["code"] == "rate_limited" and "invitations" in r.json()["error"], r.text
    assert int(r.headers["retry-after"]) > 0
    assert len(lab.mail(EVE)) == 3


def test_one_inviter_cannot_mail_without_end(lab: Lab, alice: TestClient, acme: int) -> None:
    confirm(alice)
    answers = [invite(alice, acme, f"x{n}@spam.test").status_code for n in range(25)]
    assert answers == [202] * 19 + [429] * 6  # twenty per window: Bob's was the first
    assert count(lab, "outbox", "to_addr LIKE '%@spam.test'") == 19
    assert count(lab, "invitations") == 19  # a refused invitation is not recorded either


# Low 3 and 4: one order on every membership route ---------------------------------------------


def test_a_member_removing_another_is_forbidden_before_being_asked_to_confirm(
    lab: Lab, alice: TestClient, acme: int, bob: TestClient
) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA)
    assert_forbidden(bob.delete(f"/orgs/{acme}/members/{user_id(lab, DANA)}"))
    assert_forbidden(bob.delete(f"/orgs/{acme}/members/{user_id(lab, ALICE)}"))
    assert_reauth_required(bob.delete(f"/orgs/{acme}/members/{user_id(lab, BOB)}"))  # leaving
    assert count(lab, "memberships", "org_id = ?", acme) == 3
    assert dana.get(f"/orgs/{acme}").status_code == 200


def test_an_owner_with_an_unverified_address_cannot_remove_members(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    confirm(alice)
    expect(alice.put("/me/email", json={"email": "alice@typo.test"}), 200)
    r = alice.delete(f"/orgs/{acme}/members/{user_id(lab, BOB)}")
    assert r.status_code == 403 and r.json()["code"] == "email_unverified", r.text
    r = alice.patch(f"/orgs/{acme}/members/{user_id(lab, BOB)}", json={"role": "admin"})
    assert r.status_code == 403 and r.json()["code"] == "email_unverified", r.text
    assert count(lab, "memberships", "org_id = ?", acme) == 2
