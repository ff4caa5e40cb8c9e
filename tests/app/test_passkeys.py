"""Passkeys through the real HTTP routes, with a software authenticator (tests/softauthn.py):
registering (step-up), signing in, confirming identity, and every way a ceremony must fail."""

from typing import Any

import pytest
from app_helpers import (
    ALICE,
    PASSWORD,
    assert_reauth_required,
    assert_signed_out,
    confirm,
    count,
    session_token,
    with_cookie,
)
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory
from softauthn import SoftAuthenticator, b64url

from course_kit.lab import Lab

SENSITIVE = ("DELETE", "/me/sessions/999999")  # guarded by RecentAuth; 404 once confirmed


def add_passkey(client: TestClient, name: str = "Laptop") -> SoftAuthenticator:
    """Confirm with the password, then register a new software passkey."""
    confirm(client)
    authenticator = SoftAuthenticator()
    r = client.post("/me/passkeys/options")
    assert r.status_code == 200, r.text
    r = client.post(
        "/me/passkeys", json={"credential": authenticator.create(r.json()), "name": name}
    )
    assert r.status_code == 201, r.text
    return authenticator


def confirm_options(client: TestClient) -> dict[str, Any]:
    r = client.post("/auth/confirm/passkey/options")
    assert r.status_code == 200, r.text
    return r.json()


def confirm_with(client: TestClient, credential: dict[str, Any]) -> Any:
    return client.post("/auth/confirm/passkey", json={"credential": credential})


def confirm_with_passkey(client: TestClient, authenticator: SoftAuthenticator) -> None:
    """Confirm with the passkey: what adding another one or removing the last one asks."""
    r = confirm_with(client, authenticator.get(confirm_options(client)))
    assert r.status_code == 200, r.text


def sensitive(client: TestClient) -> Any:
    return client.request(*SENSITIVE)


def assert_refused(r: Any, reason: str) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_credentials", r.text
    assert reason in r.json()["error"], r.text


def failures(lab: Lab) -> int:
    return int(lab.query("SELECT MAX(failed_confirmations) FROM sessions")[0][0])


@pytest.fixture
def alice_key(alice: TestClient, clock: FrozenDateTimeFactory) -> SoftAuthenticator:
    """Alice with a passkey, and her confirmation long expired."""
    authenticator = add_passkey(alice)
    clock.tick(301)
    return authenticator


# Registration ---------------------------------------------------------------------------


def test_adding_a_passkey_is_a_sensitive_action(alice: TestClient) -> None:
    assert_reauth_required(alice.post("/me/passkeys/options"), ["password"])
    assert_reauth_required(alice.post("/me/passkeys", json={"credential": {}}), ["password"])


def test_registration_options_require_user_verification_and_use_the_settings(
    alice: TestClient,
) -> None:
    confirm(alice)
    options = alice.post("/me/passkeys/options").json()
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == ALICE
    assert ALICE not in options["user"]["id"]  # an opaque handle, never the address
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []


def test_a_registered_passkey_is_listed_and_offered_as_a_method(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    authenticator = add_passkey(alice, "Work laptop")
    passkeys = alice.get("/me/passkeys").json()
    assert [p["name"] for p in passkeys] == ["Work laptop"]
    assert "public_key" not in passkeys[0] and "credential_id" not in passkeys[0]
    assert alice.get("/me").json()["methods"] == ["password", "passkey"]
    assert any("passkey was added" in m["subject"] for m in lab.mail(ALICE))
    confirm_with_passkey(alice, authenticator)  # another passkey needs the one she has
    r = alice.post("/me/passkeys/options")
    assert r.json()["excludeCredentials"][0]["id"] == authenticator.id
    clock.tick(301)
    assert_reauth_required(sensitive(alice), ["password", "passkey"])


def test_the_same_authenticator_cannot_be_registered_twice(alice: TestClient) -> None:
    authenticator = add_passkey(alice)
    confirm_with_passkey(alice, authenticator)
    options = alice.post("/me/passkeys/options").json()
    r = alice.post("/me/passkeys", json={"credential": authenticator.create(options)})
    assert r.status_code == 400, r.text
    assert "already registered" in r.json()["error"], r.text


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"origin": "http://evil.test"}, "origin"),
        ({"user_verified": False}, "User verification is required"),
    ],
)
def test_registration_refuses_a_bad_response(
    lab: Lab, alice: TestClient, tamper: dict[str, Any], reason: str
) -> None:
    confirm(alice)
    options = alice.post("/me/passkeys/options").json()
    credential = SoftAuthenticator().create(options, **tamper)
    r = alice.post("/me/passkeys", json={"credential": credential})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_passkey" and reason in r.json()["error"], r.text
    assert count(lab, "passkeys") == 0


def test_a_registration_challenge_is_single_use(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    options = alice.post("/me/passkeys/options").json()
    first = SoftAuthenticator()
    r = alice.post("/me/passkeys", json={"credential": first.create(options)})
    assert r.status_code == 201, r.text
    confirm_with_passkey(alice, first)  # a second passkey needs the first
    r = alice.post("/me/passkeys", json={"credential": SoftAuthenticator().create(options)})
    assert r.status_code == 400, r.text
    assert "already used" in r.json()["error"], r.text
    assert count(lab, "passkeys") == 1


def test_a_registration_challenge_belongs_to_its_session(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    options = alice.post("/me/passkeys/options").json()
    other = lab.client()
    lab.login(other, ALICE, PASSWORD)
    confirm(other)
    r = other.post("/me/passkeys", json={"credential": SoftAuthenticator().create(options)})
    assert r.status_code == 400, r.text
    assert count(lab, "passkeys") == 0


# Confirming identity with a passkey --------------------------------------------------------


def test_confirming_with_a_passkey_opens_the_window_like_a_password(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    assert_reauth_required(sensitive(alice))
    old_token = session_token(alice)
    options = confirm_options(alice)
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert [c["id"] for c in options["allowCredentials"]] == [alice_key.id]

    r = confirm_with(alice, alice_key.get(options))

    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"message", "expires_in", "expires_at"}
    assert body["message"] == "Identity confirmed." and body["expires_in"] == 300
    assert session_token(alice) != old_token  # rotated, like /auth/confirm
    assert_signed_out(with_cookie(lab, old_token))
    assert sensitive(alice).status_code == 404
    reauth = alice.get("/me").json()["reauth"]
    assert reauth["recent"] is True and reauth["method"] == "passkey"
    assert lab.query("SELECT sign_count FROM passkeys")[0][0] == alice_key.sign_count


def test_confirm_options_need_a_session_and_a_passkey(lab: Lab, alice: TestClient) -> None:
    assert lab.client().post("/auth/confirm/passkey/options").status_code == 401
    r = alice.post("/auth/confirm/passkey/options")
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "no_passkey", r.text


def test_a_wrong_challenge_is_refused_and_counted(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    options = confirm_options(alice)
    forged = b64url(b"a challenge the server never issued")
    assert_refused(confirm_with(alice, alice_key.get(options, challenge=forged)), "challenge")
    assert failures(lab) == 1
    assert_reauth_required(sensitive(alice))


def test_a_wrong_origin_is_refused(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    options = confirm_options(alice)
    r = confirm_with(alice, alice_key.get(options, origin="http://localhost:9999"))
    assert_refused(r, "origin")
    assert failures(lab) == 1


def test_a_replayed_challenge_is_refused(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    assertion = alice_key.get(confirm_options(alice))
    assert confirm_with(alice, assertion).status_code == 200
    assert_refused(confirm_with(alice, assertion), "already used")
    assert failures(lab) == 1


def test_a_challenge_is_spent_even_by_a_failed_attempt(
    alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    options = confirm_options(alice)
    assert_refused(confirm_with(alice, alice_key.get(options, user_verified=False)), "verif")
    assert_refused(confirm_with(alice, alice_key.get(options)), "already used")


def test_an_expired_challenge_is_refused(
    alice: TestClient, alice_key: SoftAuthenticator, clock: FrozenDateTimeFactory
) -> None:
    options = confirm_options(alice)
    clock.tick(121)
    assert_refused(confirm_with(alice, alice_key.get(options)), "expired")


def test_a_sign_count_regression_is_refused(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    r = confirm_with(alice, alice_key.get(confirm_options(alice), sign_count=7))
    assert r.status_code == 200, r.text
    assert lab.query("SELECT sign_count FROM passkeys")[0][0] == 7
    r = confirm_with(alice, alice_key.get(confirm_options(alice), sign_count=5))
    assert_refused(r, "sign count")
    assert lab.query("SELECT sign_count FROM passkeys")[0][0] == 7


def test_missing_user_verification_is_refused(
    alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    r = confirm_with(alice, alice_key.get(confirm_options(alice), user_verified=False))
    assert_refused(r, "User verification is required")
    assert_reauth_required(sensitive(alice))


def test_another_users_passkey_cannot_confirm(
    lab: Lab, alice: TestClient, bob: TestClient, clock: FrozenDateTimeFactory
) -> None:
    add_passkey(alice)
    bob_key = add_passkey(bob)
    clock.tick(301)
    options = confirm_options(alice)
    assert_refused(confirm_with(alice, bob_key.get({"challenge": options["challenge"]})), "not")
    assert_reauth_required(sensitive(alice))


def test_a_sign_in_challenge_cannot_confirm(
    alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    options = alice.post("/auth/passkey/options").json()
    assert_refused(confirm_with(alice, alice_key.get(options)), "challenge")


def test_failed_passkey_confirmations_share_the_lockout(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    for _ in range(lab.settings.max_failed_confirmations - 1):
        r = alice.post("/auth/confirm", json={"password": "wrong password"})
        assert r.status_code == 401, r.text
    r = confirm_with(alice, alice_key.get(confirm_options(alice), user_verified=False))
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "session_revoked", r.text
    assert count(lab, "sessions") == 0


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        {
            "id": "AAAA",
            "rawId": "AAAA",
            "type": "public-key",
            "response": {"clientDataJSON": "%%%", "authenticatorData": "", "signature": ""},
        },
    ],
)
def test_a_malformed_credential_is_a_clear_401(
    alice: TestClient, alice_key: SoftAuthenticator, credential: dict[str, Any]
) -> None:
    assert_refused(confirm_with(alice, credential), "Passkey not accepted")
    r = alice.post("/auth/passkey", json={"credential": credential})
    assert r.status_code == 401, r.text
    r = alice.post("/auth/confirm/passkey", json={"credential": "not an object"})
    assert r.status_code == 422, r.text


# Signing in with a passkey -----------------------------------------------------------------


def sign_in(lab: Lab, authenticator: SoftAuthenticator, **tamper: Any) -> tuple[TestClient, Any]:
    client = lab.client()
    options = client.post("/auth/passkey/options").json()
    assert options["userVerification"] == "required" and options["allowCredentials"] == []
    r = client.post("/auth/passkey", json={"credential": authenticator.get(options, **tamper)})
    return client, r


def test_signing_in_with_a_passkey(lab: Lab, alice_key: SoftAuthenticator) -> None:
    client, r = sign_in(lab, alice_key)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Signed in."
    assert client.get("/me").json()["email"] == ALICE
    # A sign-in is not a confirmation unless the settings say so.
    assert_reauth_required(sensitive(client))


def test_a_passkey_sign_in_is_recent_auth_when_configured(tmp_path: Any) -> None:
    lab = Lab.start("solutions", folder=tmp_path / "recent", login_is_recent_auth=True)
    try:
        authenticator = add_passkey(lab.person(ALICE, PASSWORD))
        client, r = sign_in(lab, authenticator)
        assert r.status_code == 200, r.text
        assert client.get("/me").json()["reauth"]["method"] == "passkey"
        assert sensitive(client).status_code == 404
    finally:
        lab.close()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"origin": "http://evil.test"}, "origin"),
        ({"user_verified": False}, "User verification is required"),
        ({"challenge": b64url(b"made up")}, "challenge"),
        ({"sign_count": 0}, "sign count"),
    ],
)
def test_a_bad_passkey_sign_in_is_refused(
    lab: Lab, alice_key: SoftAuthenticator, tamper: dict[str, Any], reason: str
) -> None:
    assert sign_in(lab, alice_key, sign_count=3)[1].status_code == 200
    client, r = sign_in(lab, alice_key, **tamper)
    assert r.status_code == 401, r.text
    assert reason in r.json()["error"], r.text
    assert_signed_out(client)


def test_an_unknown_passkey_cannot_sign_in(lab: Lab, alice: TestClient) -> None:
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": b64url(b"x")}, "challenge": ""})
    _, r = sign_in(lab, stranger)
    assert r.status_code == 401, r.text
    assert "not registered" in r.json()["error"], r.text


# Removing passkeys and going passkey-only ----------------------------------------------------


def test_removing_a_passkey_is_a_sensitive_action(
    lab: Lab, alice: TestClient, bob: TestClient, alice_key: SoftAuthenticator
) -> None:
    passkey_id = alice.get("/me/passkeys").json()[0]["id"]
    assert_reauth_required(alice.delete(f"/me/passkeys/{passkey_id}"))
    confirm(bob)
    assert bob.delete(f"/me/passkeys/{passkey_id}").status_code == 404
    confirm(alice)
    # Her last passkey: a password confirmation is not enough to take the account's
    # strongest factor away.
    assert_reauth_required(alice.delete(f"/me/passkeys/{passkey_id}"), ["passkey"])
    confirm_with_passkey(alice, alice_key)
    r = alice.delete(f"/me/passkeys/{passkey_id}")
    assert r.status_code == 204, r.text
    assert alice.get("/me/passkeys").json() == []
    assert alice.get("/me").json()["methods"] == ["password"]


def test_a_passkey_only_account_confirms_with_its_passkey(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    confirm(alice)
    r = alice.delete("/me/password")
    assert r.status_code == 409, r.text  # no passkey yet: that would lock her out
    authenticator = add_passkey(alice)
    r = alice.delete("/me/password")
    assert r.status_code == 200, r.text
    assert lab.user(ALICE)["password_hash"] is None
    assert alice.post("/auth/login", json={"email": ALICE, "password": PASSWORD}).status_code == 401

    clock.tick(301)
    assert_reauth_required(sensitive(alice), ["passkey"])
    r = alice.post("/auth/confirm", json={"password": PASSWORD})
    assert r.status_code == 401, r.text
    assert confirm_with(alice, authenticator.get(confirm_options(alice))).status_code == 200
    assert sensitive(alice).status_code == 404

    passkey_id = alice.get("/me/passkeys").json()[0]["id"]
    r = alice.delete(f"/me/passkeys/{passkey_id}")
    assert r.status_code == 409, r.text  # her only way in
    assert r.json()["code"] == "last_credential", r.text


def test_removing_the_password_is_a_sensitive_action(
    lab: Lab, alice: TestClient, alice_key: SoftAuthenticator
) -> None:
    assert_reauth_required(alice.delete("/me/password"), ["password", "passkey"])
    assert lab.user(ALICE)["password_hash"] is not None


def test_a_passkey_name_cannot_forge_lines_or_spoof_in_mail(lab: Lab, alice: TestClient) -> None:
    """Issue 18: CR, LF and U+202E in a passkey's name reached the "passkey added" mail."""
    add_passkey(alice, 'Laptop"\r\n\r\nSupport: call +1 555\u202eevil')
    body = lab.mail(ALICE)[-1]["body"]
    assert "\r" not in body and "\u202e" not in body
    assert body.count("\n") == 0, body
    assert '"Laptop\' Support: call +1 555 evil"' in body, body
