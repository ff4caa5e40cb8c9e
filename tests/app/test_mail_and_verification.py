"""The outbox, the dev mailbox, and email verification links."""

import hashlib
from collections.abc import Callable

import pytest
from app_helpers import ALICE, PASSWORD, confirm
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab, path_of, token_of


def verify(lab: Lab, link: str) -> tuple[int, dict]:
    r = lab.client().get(path_of(link))
    return r.status_code, r.json()


def test_mail_is_a_row_in_the_outbox(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD, verified=False)
    [mail] = lab.mail(ALICE)
    assert mail["subject"] == "Verify your email address"
    assert mail["link"] in mail["body"]
    assert "24 hours" in mail["body"]


def test_the_dev_mailbox_lists_messages_newest_first(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD, verified=False)
    lab.signup("bob@example.com", PASSWORD, verified=False)
    r = lab.client().get("/dev/mail")
    assert r.status_code == 200, r.text
    assert [m["to_addr"] for m in r.json()] == ["bob@example.com", ALICE]
    r = lab.client().get("/dev/mail", params={"to": "ALICE@example.com"})
    assert r.status_code == 200, r.text
    assert [m["to_addr"] for m in r.json()] == [ALICE]


def test_the_dev_mailbox_does_not_exist_outside_dev_mode(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(dev_mode=False)
    client = lab.client()
    r = client.post("/auth/signup", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 201, r.text  # mail still goes to the outbox
    r = client.get("/dev/mail")
    assert r.status_code == 404, r.text
    assert r.json() == {"error": "Not Found"}
    assert len(lab.mail(ALICE)) == 1


def test_the_link_token_is_stored_hashed(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD, verified=False)
    token = token_of(lab.last_link(ALICE))
    [row] = lab.query("SELECT * FROM email_tokens")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in tuple(row)]
    assert row["purpose"] == "verify_email"


def test_the_link_verifies_the_address_once(lab: Lab) -> None:
    client = lab.signup(ALICE, PASSWORD, verified=False)
    link = lab.last_link(ALICE)
    assert verify(lab, link) == (200, {"message": "Email verified."})
    lab.login(client, ALICE, PASSWORD)
    assert client.get("/me").json()["email_verified"] is True
    status, body = verify(lab, link)
    assert status == 400, body
    assert body["error"] == "This link was already used or has been replaced"


@pytest.mark.parametrize(("age", "status"), [(24 * 3600, 200), (24 * 3600 + 1, 400)])
def test_the_link_expires_after_24_hours(
    lab: Lab, clock: FrozenDateTimeFactory, age: int, status: int
) -> None:
    lab.signup(ALICE, PASSWORD, verified=False)
    clock.tick(age)
    code, body = verify(lab, lab.last_link(ALICE))
    assert code == status, body
    if status == 400:
        assert body["error"] == "This link has expired"
    assert lab.user(ALICE)["email_verified"] == (status == 200)


@pytest.mark.parametrize("query", ["?token=nope", "?token=", "?token=" + "a" * 5000])
def test_a_made_up_token_is_a_400(lab: Lab, query: str) -> None:
    lab.signup(ALICE, PASSWORD, verified=False)
    r = lab.client().get("/verify-email" + query)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "This link is not valid"
    assert lab.user(ALICE)["email_verified"] == 0


def test_a_missing_token_is_a_clear_4xx(lab: Lab) -> None:
    r = lab.client().get("/verify-email")
    assert r.status_code == 422, r.text
    assert "token" in r.json()["error"]


def test_a_newer_link_replaces_the_older_one(lab: Lab) -> None:
    """Changing the address mails a new link; the one sent to the old address dies."""
    client = lab.person(ALICE, PASSWORD, verified=False)
    first = lab.last_link(ALICE)
    confirm(client)
    r = client.put("/me/email", json={"email": "alice@work.example"})
    assert r.status_code == 200, r.text
    status, body = verify(lab, first)
    assert status == 400, body
    assert body["error"] == "This link was already used or has been replaced"
    r = client.get(path_of(lab.last_link("alice@work.example")))  # her own session opens it
    assert r.status_code == 200, r.text
    assert client.get("/me").json()["email_verified"] is True


def test_a_link_needs_no_session_and_verifies_only_its_account(lab: Lab) -> None:
    lab.signup("bob@example.com", PASSWORD, verified=False)
    lab.signup("carol@example.com", PASSWORD, verified=False)
    status, body = verify(lab, lab.last_link("bob@example.com"))
    assert status == 200, body
    assert lab.user("bob@example.com")["email_verified"] == 1
    assert lab.user("carol@example.com")["email_verified"] == 0
