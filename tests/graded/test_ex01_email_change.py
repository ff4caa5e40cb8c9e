"""Graded tests for exercise 1: step-up on email change (``PUT /me/email``)."""

import pytest

from course_kit.testing import (
    PASSWORD,
    Clocks,
    Lab,
    expect,
    expect_error,
    expect_status,
    path_of,
    task,
)


@pytest.fixture
def lab(make_lab, clock: Clocks) -> Lab:
    return make_lab("ex01")


def confirm(client, password: str = PASSWORD) -> None:
    r = client.post("/auth/confirm", json={"password": password})
    expect_status(r, 200, "POST /auth/confirm with the right password")


# --- task 1: who are you → prove it recently → act -------------------------------------------


@task("ex01", 1)
def test_needs_a_session(lab: Lab) -> None:
    r = lab.client().put("/me/email", json={"email": "new@example.com"})
    expect_status(r, 401, "PUT /me/email without a session cookie")


@task("ex01", 1)
def test_fresh_sign_in_is_not_a_recent_confirmation(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    r = alice.put("/me/email", json={"email": "new@example.com"})
    body = expect_status(
        r, 403, "PUT /me/email from a session that signed in but never confirmed", "reauth_required"
    )
    expect(body.get("error") == "Re-authentication required", f"403 body was {body}")
    expect("password" in body.get("methods", []), f"the 403 body should list methods: {body}")
    expect(
        lab.user("alice@example.com") is not None, "the email changed although the answer was 403"
    )


@task("ex01", 1)
def test_step_up_is_checked_before_the_body(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    r = alice.put("/me/email", json={})
    expect_status(
        r, 403, "PUT /me/email with an empty body from an unconfirmed session", "reauth_required"
    )


@task("ex01", 1)
def test_confirmed_session_may_change_the_email(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    r = alice.put("/me/email", json={"email": "alice@work.example"})
    body = expect_status(r, 200, "PUT /me/email right after confirming")
    expect(
        body.get("message") == "Email updated. Verify your new email address.",
        f"unexpected message {body}",
    )
    expect(lab.user("alice@work.example") is not None, "the account does not have the new address")


@task("ex01", 1)
def test_the_window_lasts_exactly_five_minutes(lab: Lab, clock: Clocks) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    clock.tick(300)
    r = alice.put("/me/email", json={"email": "alice@five.example"})
    expect_status(r, 200, "PUT /me/email exactly 300 s after confirming")
    clock.tick(1)
    r = alice.put("/me/email", json={"email": "alice@late.example"})
    expect_status(r, 403, "PUT /me/email 301 s after confirming", "reauth_required")


@task("ex01", 1)
def test_confirming_one_session_does_not_unlock_another(lab: Lab) -> None:
    laptop = lab.person("alice@example.com", PASSWORD)
    phone = lab.client()
    lab.login(phone, "alice@example.com", PASSWORD)
    confirm(laptop)
    r = phone.put("/me/email", json={"email": "thief@example.com"})
    expect_status(
        r,
        403,
        "PUT /me/email from a second session of a user who confirmed elsewhere",
        "reauth_required",
    )


# --- task 2: a valid, new, free address --------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": ""}, {"email": "   "}, {"email": "not-an-address"}, {"email": "a@b@c"}],
    ids=["missing", "empty", "blank", "no-at-sign", "two-at-signs"],
)
@task("ex01", 2)
def test_rejects_a_missing_or_malformed_address(lab: Lab, payload: dict) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    before = len(lab.mail("alice@example.com"))
    r = alice.put("/me/email", json=payload)
    expect_error(r, 400, "Email required", f"PUT /me/email with {payload}")
    expect(lab.user("alice@example.com") is not None, f"{payload} changed the address")
    expect(len(lab.mail("alice@example.com")) == before, "a rejected change still sent mail")


@task("ex01", 2)
def test_rejects_the_address_the_user_already_has(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    r = alice.put("/me/email", json={"email": "Alice@EXAMPLE.com"})
    expect_error(
        r,
        400,
        "Email required",
        "PUT /me/email with Alice@EXAMPLE.com, her own address in other case",
    )
    expect(lab.user("alice@example.com")["email_verified"] == 1, "verification was reset")


@task("ex01", 2)
def test_rejects_an_address_in_use(lab: Lab) -> None:
    lab.person("bob@example.com", PASSWORD)
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    r = alice.put("/me/email", json={"email": "BOB@example.com"})
    expect_error(
        r, 409, "Email already in use", "PUT /me/email with BOB@example.com, bob's address"
    )
    expect(lab.user("alice@example.com") is not None, "alice lost her address on a 409")


@task("ex01", 2)
def test_the_new_address_is_normalised(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    r = alice.put("/me/email", json={"email": "  alice@NEW.Example  "})
    expect_status(r, 200, "PUT /me/email with spaces and an upper-case domain")
    row = lab.user("alice@new.example")
    expect(row is not None and row["email"] == "alice@new.example", "stored address not normalised")


# --- task 3: the new inbox is unproven -----------------------------------------------------------


@task("ex01", 3)
def test_changing_the_email_resets_verification(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    expect(lab.user("alice@example.com")["email_verified"] == 1, "setup: alice is verified")
    confirm(alice)
    expect_status(alice.put("/me/email", json={"email": "alice@new.example"}), 200, "PUT /me/email")
    expect(
        lab.user("alice@new.example")["email_verified"] == 0,
        "after the change email_verified is still 1: nobody proved they own alice@new.example",
    )
    me = expect_status(alice.get("/me"), 200, "GET /me")
    expect(me["email_verified"] is False, f"GET /me says {me}")


@task("ex01", 3)
def test_a_link_goes_to_the_new_address_and_verifies_it(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    confirm(alice)
    alice.put("/me/email", json={"email": "alice@new.example"})
    links = [m["link"] for m in lab.mail("alice@new.example") if m["link"]]
    expect(
        len(links) == 1, f"expected one verification link mailed to the new address, got {links}"
    )
    r = alice.get(path_of(links[0]))
    expect_status(r, 200, "opening the link mailed to the new address")
    expect(lab.user("alice@new.example")["email_verified"] == 1, "the link did not verify")


@task("ex01", 3)
def test_the_old_address_is_told(lab: Lab) -> None:
    alice = lab.person("alice@example.com", PASSWORD)
    before = len(lab.mail("alice@example.com"))
    confirm(alice)
    alice.put("/me/email", json={"email": "alice@new.example"})
    notices = lab.mail("alice@example.com")[before:]
    expect(len(notices) == 1, "the old address got no notice of the change")
    expect("alice@new.example" in notices[0]["body"], "the notice should name the new address")


@task("ex01", 3)
def test_attacker_cannot_join_acme_until_the_new_address_is_verified(lab: Lab) -> None:
    owner = lab.person("owner@acme.test", PASSWORD)
    org_id = lab.create_org(owner, "Acme")
    confirm(owner)
    r = owner.put(f"/orgs/{org_id}/verified-domain", json={"domain": "acme.test"})
    expect_status(r, 200, "setup: Acme trusts verified @acme.test addresses")

    mallory = lab.person("mallory@evil.example", PASSWORD)
    confirm(mallory)
    expect_status(mallory.put("/me/email", json={"email": "ceo@acme.test"}), 200, "PUT /me/email")
    r = mallory.post(f"/orgs/{org_id}/join")
    expect_status(
        r,
        403,
        "POST /orgs/{id}/join right after changing the email to an unproven @acme.test address",
        "email_unverified",
    )
    # Only the real owner of ceo@acme.test can click the link sent there.
    expect_status(mallory.get(path_of(lab.last_link("ceo@acme.test"))), 200, "verifying")
    expect_status(mallory.post(f"/orgs/{org_id}/join"), 201, "POST /orgs/{id}/join once verified")
