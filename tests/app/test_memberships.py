"""Membership and role changes, written as the attacks they must stop (issue 11, holes 1 and 3):
a stolen owner or admin session granting roles, forced memberships, account enumeration
through invitations, and an org left without an owner."""

import threading

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
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab

DANA = "dana@example.com"


def role_of(lab: Lab, org_id: int, email: str) -> str | None:
    rows = lab.query(
        "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.org_id = ? AND u.email = ?",
        org_id,
        email,
    )
    return rows[0]["role"] if rows else None


def accept_all(client: TestClient) -> list[int]:
    invitations = expect(client.get("/me/invitations"), 200).json()
    for invitation in invitations:
        expect(client.post(f"/me/invitations/{invitation['id']}/accept"), 201)
    return [invitation["org_id"] for invitation in invitations]


def events(client: TestClient) -> list[str]:
    return [entry["event"] for entry in expect(client.get("/me/security-log"), 200).json()]


# Hole 1: a stolen session grants roles ---------------------------------------------------------


def test_a_stolen_unconfirmed_owner_session_cannot_grant_owner(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    assert_reauth_required(invite(alice, acme, EVE, "owner"))
    assert count(lab, "invitations") == 0
    assert role_of(lab, acme, EVE) is None
    assert accept_all(eve) == []


def test_a_stolen_unconfirmed_admin_session_cannot_grant_admin(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    assert_reauth_required(invite(dana, acme, EVE, "admin"))
    bob_id = user_id(lab, BOB)
    assert_reauth_required(dana.patch(f"/orgs/{acme}/members/{bob_id}", json={"role": "admin"}))
    assert_reauth_required(dana.delete(f"/orgs/{acme}/members/{bob_id}"))
    assert role_of(lab, acme, BOB) == "member" and count(lab, "invitations") == 0


def test_an_admin_cannot_make_anyone_owner_even_confirmed(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    dana = lab.person(DANA, PASSWORD)
    lab.add_member(alice, acme, DANA, "admin")
    confirm(dana)
    r = invite(dana, acme, EVE, "owner")
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    r = dana.patch(f"/orgs/{acme}/members/{user_id(lab, BOB)}", json={"role": "owner"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    r = dana.delete(f"/orgs/{acme}/members/{user_id(lab, ALICE)}")
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    assert role_of(lab, acme, ALICE) == "owner" and role_of(lab, acme, BOB) == "member"


def test_a_member_is_forbidden_before_being_asked_to_confirm(
    lab: Lab, acme: int, bob: TestClient
) -> None:
    assert_forbidden(invite(bob, acme, EVE))
    assert_forbidden(bob.patch(f"/orgs/{acme}/members/{user_id(lab, BOB)}", json={"role": "admin"}))
    assert_forbidden(bob.get(f"/orgs/{acme}/members"))


def test_the_real_owner_demotes_and_removes_an_intruder(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    """Eve got in as owner anyway (say, through a confirmed session): the real owner can undo it."""
    lab.add_member(alice, acme, EVE, "owner")
    confirm(alice)
    eve_id = user_id(lab, EVE)
    r = alice.patch(f"/orgs/{acme}/members/{eve_id}", json={"role": "member"})
    assert r.status_code == 200, r.text
    assert r.json() == {"org_id": acme, "user_id": eve_id, "role": "member"}
    expect(alice.delete(f"/orgs/{acme}/members/{eve_id}"), 204)
    expect(eve.get(f"/orgs/{acme}"), 404)
    assert "member_role_changed" in events(eve) and "member_removed" in events(eve)
    assert {"member_role_changed", "member_removed"} <= set(events(alice))
    subjects = [m["subject"] for m in lab.mail(EVE)]
    assert any("role changed" in s for s in subjects), subjects
    assert any("no longer in" in s for s in subjects), subjects
    assert sum("no longer in" in m["subject"] for m in lab.mail(ALICE)) == 1


def test_every_grant_is_mailed_to_the_owners_and_the_member(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    second_owner = lab.person("olga@example.com", PASSWORD)
    lab.add_member(alice, acme, "olga@example.com", "owner")
    before = {who: len(lab.mail(who)) for who in (ALICE, "olga@example.com", EVE, BOB)}
    confirm(second_owner)
    expect(invite(second_owner, acme, EVE, "admin"), 202)
    accept_all(eve)
    after = {who: len(lab.mail(who)) for who in before}
    assert after[ALICE] - before[ALICE] == 2  # the invitation and the acceptance
    assert after["olga@example.com"] - before["olga@example.com"] == 2
    assert after[EVE] - before[EVE] == 2  # invited, then joined
    assert after[BOB] == before[BOB]  # a plain member is not told
    assert "member_invited" in events(second_owner) and "member_added" in events(second_owner)
    assert "org_joined" in events(eve)


def test_no_change_leaves_an_org_without_an_owner(lab: Lab, alice: TestClient, acme: int) -> None:
    confirm(alice)
    alice_id = user_id(lab, ALICE)
    for r in (
        alice.patch(f"/orgs/{acme}/members/{alice_id}", json={"role": "admin"}),
        alice.delete(f"/orgs/{acme}/members/{alice_id}"),
    ):
        assert r.status_code == 409 and r.json()["code"] == "last_owner", r.text
    assert role_of(lab, acme, ALICE) == "owner"


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    lab: Lab, alice: TestClient, acme: int
) -> None:
    olga = lab.person("olga@example.com", PASSWORD)
    lab.add_member(alice, acme, "olga@example.com", "owner")
    confirm(alice)
    confirm(olga)
    ids = {ALICE: user_id(lab, ALICE), "olga@example.com": user_id(lab, "olga@example.com")}
    answers: list[int] = []
    start = threading.Barrier(2)

    def demote(client: TestClient, target: str) -> None:
        start.wait()
        r = client.patch(f"/orgs/{acme}/members/{ids[target]}", json={"role": "member"})
        answers.append(r.status_code)

    threads = [
        threading.Thread(target=demote, args=(alice, "olga@example.com")),
        threading.Thread(target=demote, args=(olga, ALICE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The second finds its own owner role gone, under the write lock: 403, nothing changed.
    assert sorted(answers) == [200, 403], answers
    assert count(lab, "memberships", "org_id = ? AND role = 'owner'", acme) == 1


def test_anyone_may_leave_after_confirming(lab: Lab, acme: int, bob: TestClient) -> None:
    bob_id = user_id(lab, BOB)
    assert_reauth_required(bob.delete(f"/orgs/{acme}/members/{bob_id}"))
    confirm(bob)
    expect(bob.delete(f"/orgs/{acme}/members/{bob_id}"), 204)
    expect(bob.get(f"/orgs/{acme}"), 404)


# Hole 3: forced membership and account enumeration --------------------------------------------


def test_an_invitation_is_not_a_membership(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    confirm(alice)
    expect(invite(alice, acme, EVE, "owner"), 202)
    expect(eve.get(f"/orgs/{acme}"), 404)  # nothing until she says yes
    assert role_of(lab, acme, EVE) is None
    [invitation] = expect(eve.get("/me/invitations"), 200).json()
    expect(eve.post(f"/me/invitations/{invitation['id']}/decline"), 204)
    assert expect(eve.get("/me/invitations"), 200).json() == []
    assert role_of(lab, acme, EVE) is None


def test_the_answer_does_not_say_whether_an_account_exists(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    confirm(alice)
    known = invite(alice, acme, EVE)
    unknown = invite(alice, acme, "nobody@evil.test")
    assert known.status_code == unknown.status_code == 202, (known.text, unknown.text)
    assert set(known.json()) == set(unknown.json())
    assert known.json()["message"].replace(EVE, "X") == unknown.json()["message"].replace(
        "nobody@evil.test", "X"
    )
    assert len(lab.mail("nobody@evil.test")) == 1  # the invitation, so they may sign up


def test_the_invitation_mail_links_to_the_page_that_answers_it(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    confirm(alice)
    expect(invite(alice, acme, EVE, "admin"), 202)
    link = lab.last_link(EVE)
    assert link == f"{lab.settings.origin}/invitations", link
    signed_out = lab.client()
    r = signed_out.get("/invitations", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Finvitations", r.text
    r = eve.get("/signin?next=/invitations", follow_redirects=False)  # back after signing in
    assert r.status_code == 303 and r.headers["location"] == "/invitations", r.text
    for elsewhere in ("//evil.test/x", "https://evil.test/", "/\\evil.test"):
        r = eve.get("/signin", params={"next": elsewhere}, follow_redirects=False)
        assert r.headers["location"] == "/account", (elsewhere, r.headers)
    r = eve.get("/invitations")
    assert r.status_code == 200 and "Invitations" in r.text, r.text


def test_only_the_person_who_reads_the_invited_inbox_can_accept(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    confirm(alice)
    expect(invite(alice, acme, "carol@example.com", "admin"), 202)
    invitation_id = lab.query("SELECT id FROM invitations")[0]["id"]
    r = eve.post(f"/me/invitations/{invitation_id}/accept")  # someone else's invitation
    assert r.status_code == 404, r.text
    squatter = lab.person("carol@example.com", PASSWORD, verified=False)
    r = squatter.post(f"/me/invitations/{invitation_id}/accept")
    assert r.status_code == 403 and r.json()["code"] == "email_unverified", r.text
    assert role_of(lab, acme, "carol@example.com") is None


def test_an_invitation_expires(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient, clock: FrozenDateTimeFactory
) -> None:
    confirm(alice)
    expect(invite(alice, acme, EVE), 202)
    invitation_id = lab.query("SELECT id FROM invitations")[0]["id"]
    clock.tick(7 * 24 * 3600 + 1)
    lab.login(eve, EVE, PASSWORD)  # her session went idle meanwhile
    r = eve.post(f"/me/invitations/{invitation_id}/accept")
    assert r.status_code == 404, r.text


def test_an_owner_revokes_an_invitation(
    lab: Lab, alice: TestClient, acme: int, eve: TestClient
) -> None:
    confirm(alice)
    expect(invite(alice, acme, EVE, "admin"), 202)
    listed = expect(alice.get(f"/orgs/{acme}/members"), 200).json()
    assert [m["email"] for m in listed["members"]] == [ALICE, BOB]
    [pending] = listed["invitations"]
    expect(alice.delete(f"/orgs/{acme}/invitations/{pending['id']}"), 204)
    assert accept_all(eve) == []


def test_a_victim_of_an_unwanted_invitation_can_still_delete_their_account(
    lab: Lab, alice: TestClient, bob: TestClient, eve: TestClient
) -> None:
    """Before: Eve made Alice an owner of her org, with members in it, and then left it to
    her: Alice could no longer delete her account (409 sole_owner). Now an invitation Alice
    never accepted changes nothing."""
    evil = lab.create_org(eve, "Evil Corp")
    lab.add_member(eve, evil, BOB)
    confirm(eve)
    expect(invite(eve, evil, ALICE, "owner"), 202)
    assert role_of(lab, evil, ALICE) is None
    confirm(alice)
    expect(alice.delete("/me"), 204)
