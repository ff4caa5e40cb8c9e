"""The account itself: changing the password, deleting the account, resetting a password."""

import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    assert_reauth_required,
    assert_signed_in,
    assert_signed_out,
    confirm,
    count,
    enable_2fa,
    expect,
    session_token,
    with_cookie,
)
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab, path_of, token_of

NEW = "a brand new password"


def can_sign_in(lab: Lab, password: str, email: str = ALICE) -> bool:
    r = lab.client().post("/auth/login", json={"email": email, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


# Changing the password ------------------------------------------------------------------------


def test_changing_the_password_needs_a_recent_confirmation(lab: Lab, alice: TestClient) -> None:
    assert_reauth_required(alice.put("/me/password", json={"new_password": NEW}))
    assert can_sign_in(lab, PASSWORD)


@pytest.mark.parametrize("new", ["short", "x" * 73, "é" * 37])
def test_the_new_password_follows_the_length_rule(lab: Lab, alice: TestClient, new: str) -> None:
    confirm(alice)
    r = alice.put("/me/password", json={"new_password": new})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "weak_password"
    assert can_sign_in(lab, PASSWORD)


def test_changing_the_password_signs_out_everywhere_else(lab: Lab, alice: TestClient) -> None:
    laptop = lab.client()
    lab.login(laptop, ALICE, PASSWORD)
    confirm(alice)
    before = session_token(alice)
    r = alice.put("/me/password", json={"new_password": NEW})
    assert r.status_code == 200, r.text
    assert session_token(alice) != before  # the cookie is rotated...
    assert_signed_out(with_cookie(lab, before))
    assert_signed_in(alice)  # ...and this session lives on
    assert_signed_out(laptop)
    assert count(lab, "sessions") == 1
    assert can_sign_in(lab, NEW) and not can_sign_in(lab, PASSWORD)
    assert lab.mail(ALICE)[-1]["subject"] == "Your password was changed"


def test_changing_the_password_ends_half_finished_2fa_logins(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    factors = enable_2fa(alice, clock)
    thief = lab.client()
    assert lab.login(thief, ALICE, PASSWORD)["two_factor_required"] is True
    confirm(alice)
    expect(alice.put("/me/password", json={"new_password": NEW}), 200)
    r = thief.post("/auth/login/2fa", json={"code": factors.code()})
    assert r.status_code == 401, r.text
    assert_signed_out(thief)


# Deleting the account ---------------------------------------------------------------------------


def test_deleting_the_account_needs_a_recent_confirmation(lab: Lab, alice: TestClient) -> None:
    assert_reauth_required(alice.delete("/me"))
    assert lab.user(ALICE) is not None


def test_deleting_the_account_removes_it(lab: Lab, alice: TestClient) -> None:
    laptop = lab.client()
    lab.login(laptop, ALICE, PASSWORD)
    lab.create_org(alice)
    confirm(alice)
    r = alice.delete("/me")
    assert r.status_code == 204, r.text
    assert lab.user(ALICE) is None
    for table in ("sessions", "memberships", "email_tokens"):
        assert count(lab, table) == 0, table
    assert_signed_out(alice)
    assert_signed_out(laptop)
    assert not can_sign_in(lab, PASSWORD)
    r = lab.client().post("/auth/signup", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 201, r.text  # the address is free again


# Resetting a forgotten password ----------------------------------------------------------------


def request_reset(lab: Lab, email: str) -> None:
    r = lab.client().post("/auth/password-reset", json={"email": email})
    assert r.status_code == 202, r.text
    assert r.json()["message"] == "If that address has an account, a reset link is on its way."


def complete(lab: Lab, token: str, new: str = NEW) -> tuple[int, dict]:
    r = lab.client().post(
        "/auth/password-reset/complete", json={"token": token, "new_password": new}
    )
    return r.status_code, r.json()


def reset_token(lab: Lab, email: str = ALICE) -> str:
    [mail] = [m for m in lab.mail(email) if m["subject"] == "Reset your password"][-1:]
    return token_of(mail["link"])


@pytest.mark.parametrize("email", ["nobody@example.com", "not an address", ""])
def test_a_reset_for_no_account_is_a_202_and_sends_nothing(lab: Lab, email: str) -> None:
    lab.signup(ALICE, PASSWORD)
    request_reset(lab, email)
    assert count(lab, "outbox") == 1  # only Alice's verification mail
    assert count(lab, "email_tokens", "purpose = 'reset_password'") == 0


def test_a_reset_goes_to_the_accounts_current_address(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, " ALICE@example.com ")
    [mail] = lab.mail(ALICE)[-1:]
    assert mail["to_addr"] == ALICE and mail["subject"] == "Reset your password"

    confirm(alice)
    expect(alice.put("/me/email", json={"email": "alice@work.example"}), 200)
    sent = count(lab, "outbox")
    request_reset(lab, ALICE)  # the old address no longer has an account
    assert count(lab, "outbox") == sent
    request_reset(lab, "alice@work.example")  # unproven yet: a typo's owner gets nothing
    assert count(lab, "outbox") == sent
    expect(alice.get(path_of(lab.last_link("alice@work.example"))), 200)
    request_reset(lab, "alice@work.example")
    assert lab.query("SELECT to_addr FROM outbox ORDER BY id DESC")[0][0] == "alice@work.example"


def test_a_reset_sets_the_password_and_signs_out_everywhere(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, ALICE)
    assert complete(lab, reset_token(lab)) == (
        200,
        {"message": "Password changed. Sign in with your new password."},
    )
    assert_signed_out(alice)
    assert count(lab, "sessions") == 0
    assert can_sign_in(lab, NEW) and not can_sign_in(lab, PASSWORD)


def test_a_reset_link_works_once(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, ALICE)
    token = reset_token(lab)
    status, body = complete(lab, token)
    assert status == 200, body
    status, body = complete(lab, token, "yet another password")
    assert status == 400, body
    assert can_sign_in(lab, NEW)


def test_a_newer_reset_link_replaces_the_older_one(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, ALICE)
    first = reset_token(lab)
    request_reset(lab, ALICE)
    status, body = complete(lab, first)
    assert status == 400, body
    assert body["error"] == "This link was already used or has been replaced"
    status, body = complete(lab, reset_token(lab))
    assert status == 200, body


@pytest.mark.parametrize(("age", "status"), [(3600, 200), (3601, 400)])
def test_a_reset_link_expires_after_an_hour(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory, age: int, status: int
) -> None:
    request_reset(lab, ALICE)
    clock.tick(age)
    code, body = complete(lab, reset_token(lab))
    assert code == status, body
    assert can_sign_in(lab, PASSWORD) is (status == 400)


def test_a_weak_new_password_keeps_the_link_usable(lab: Lab, alice: TestClient) -> None:
    request_reset(lab, ALICE)
    status, body = complete(lab, reset_token(lab), "short")
    assert status == 400, body
    assert body["code"] == "weak_password"
    status, body = complete(lab, reset_token(lab))
    assert status == 200, body


@pytest.mark.parametrize("token", ["", "nope", "x" * 256])
def test_a_made_up_reset_token_is_a_400(lab: Lab, alice: TestClient, token: str) -> None:
    status, body = complete(lab, token)
    assert status == 400, body
    assert body["error"] == "This link is not valid"
    assert can_sign_in(lab, PASSWORD)


def test_a_reset_link_dies_when_the_address_changes(lab: Lab, alice: TestClient) -> None:
    """The link went to the old inbox; once the account has moved on, it must not work."""
    request_reset(lab, ALICE)
    token = reset_token(lab)
    confirm(alice)
    expect(alice.put("/me/email", json={"email": "alice@work.example"}), 200)
    status, body = complete(lab, token)
    assert status == 400, body
    assert can_sign_in(lab, PASSWORD, "alice@work.example")


def test_a_reset_ends_half_finished_2fa_logins(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    factors = enable_2fa(alice, clock)
    thief = lab.client()
    assert lab.login(thief, ALICE, PASSWORD)["two_factor_required"] is True
    request_reset(lab, ALICE)
    status, body = complete(lab, reset_token(lab))
    assert status == 200, body
    r = thief.post("/auth/login/2fa", json={"code": factors.code()})
    assert r.status_code == 401, r.text
    assert_signed_out(thief)


def test_deleting_the_account_takes_its_solo_org_and_keys_along(lab) -> None:
    owner = lab.person("solo@example.com")
    org_id = lab.create_org(owner, "Solo")
    assert owner.post("/auth/confirm", json={"password": "correct horse"}).status_code == 200
    r = owner.post(f"/orgs/{org_id}/api-keys", json={"name": "ci"})
    assert r.status_code == 201, r.text
    bearer = lab.client()
    bearer.headers["authorization"] = f"Bearer {r.json()['key']}"
    assert owner.delete("/me").status_code == 204
    assert lab.query("SELECT * FROM orgs WHERE id = ?", org_id) == []
    r = bearer.get("/api/org")
    assert r.status_code == 401, r.text


def test_the_only_owner_of_a_shared_org_must_hand_it_over_first(lab) -> None:
    owner = lab.person("owner@example.com")
    lab.person("bob@example.com")
    org_id = lab.create_org(owner, "Shared")
    lab.add_member(owner, org_id, "bob@example.com")
    assert owner.post("/auth/confirm", json={"password": "correct horse"}).status_code == 200
    r = owner.delete("/me")
    assert r.status_code == 409, r.text
    assert "Shared" in r.json()["error"]
    assert lab.user("owner@example.com") is not None
    lab.add_member(owner, org_id, "bob@example.com", "owner")
    r = owner.delete("/me")
    assert r.status_code == 204, r.text
    assert lab.query("SELECT role FROM memberships WHERE org_id = ?", org_id)[0]["role"] == "owner"


def test_only_an_owner_can_make_an_owner(lab) -> None:
    owner = lab.person("owner@example.com")
    admin = lab.person("dana@example.com")
    lab.person("eve@example.com")
    org_id = lab.create_org(owner, "Acme")
    lab.add_member(owner, org_id, "dana@example.com", "admin")
    r = admin.post(f"/orgs/{org_id}/members", json={"email": "eve@example.com", "role": "owner"})
    assert r.status_code == 403, r.text
