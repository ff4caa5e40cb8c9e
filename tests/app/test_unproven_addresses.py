"""Issue 18, addresses, each written as the attack: an account squatting someone's address by
changing to it and never verifying it, the owner clicking the link the squatter's change sent
them, and a never-verified account turning a typo's inbox into a recovery address.

The lesson's email change is untouched (exercise 1): the new address is stored at once with
``email_verified = 0``, a link goes to it and a notice to the old one."""

from app_helpers import ALICE, PASSWORD, confirm, count, expect
from fastapi.testclient import TestClient

from course_kit.lab import Lab, path_of, token_of

VICTIM = "victim@example.com"
MALLORY = "mallory@evil.test"


def squat(lab: Lab, address: str = VICTIM) -> TestClient:
    """Mallory, verified at her own address, changes hers to ``address`` and never verifies."""
    mallory = lab.person(MALLORY, PASSWORD)
    confirm(mallory)
    expect(mallory.put("/me/email", json={"email": address}), 200)
    return mallory


# Medium 3: address squatting -------------------------------------------------------------------


def test_the_owner_signs_up_with_an_address_someone_holds_unverified(lab: Lab) -> None:
    mallory = squat(lab)
    r = lab.client().post("/auth/signup", json={"email": VICTIM, "password": PASSWORD})
    assert r.status_code == 201, r.text
    victim = lab.user(VICTIM)
    assert victim is not None and victim["id"] == r.json()["id"]
    # Mallory is back at the address she proved, verified, and told there.
    me = expect(mallory.get("/me"), 200).json()
    assert (me["email"], me["email_verified"]) == (MALLORY, True)
    assert lab.mail(MALLORY)[-1]["subject"] == "Your account's address was changed back"
    log = [(e["event"], e["detail"]) for e in mallory.get("/me/security-log").json()]
    assert ("email_released", f"{VICTIM} was never verified; now {MALLORY}") in log
    # The squatter's link for the address is dead; the owner's own link verifies it.
    links = [m["link"] for m in lab.mail(VICTIM) if m["link"]]
    assert len(links) == 2
    assert mallory.get(path_of(links[0])).status_code == 400
    expect(lab.client().get(path_of(links[1])), 200)
    assert lab.user(VICTIM)["email_verified"] == 1


def test_a_reset_through_a_squatted_address_answers_as_for_a_free_one(lab: Lab) -> None:
    squat(lab)
    before = len(lab.mail(VICTIM))
    r = lab.client().post("/auth/password-reset", json={"email": VICTIM})
    assert r.status_code == 202, r.text
    assert len(lab.mail(VICTIM)) == before  # nobody's account is offered to that inbox
    r = lab.client().post("/auth/password-reset", json={"email": "free@example.com"})
    assert r.status_code == 202, r.text


def test_a_squatter_that_never_proved_an_address_is_parked(lab: Lab) -> None:
    """An account signed up with a typo, never verified, moves to the victim's address. When
    the victim signs up, it has nothing proven to go back to: it keeps its session, at an
    address that receives nothing, until its owner sets one of theirs."""
    squatter = lab.person("nobody@typo.test", PASSWORD, verified=False)
    confirm(squatter)
    expect(squatter.put("/me/email", json={"email": VICTIM}), 200)
    expect(lab.client().post("/auth/signup", json={"email": VICTIM, "password": PASSWORD}), 201)
    me = expect(squatter.get("/me"), 200).json()
    assert me["email"].endswith("@parked.invalid") and me["email_verified"] is False
    r = lab.client().post("/auth/login", json={"email": me["email"], "password": PASSWORD})
    assert r.status_code == 401, r.text
    confirm(squatter)
    expect(squatter.put("/me/email", json={"email": "nobody@right.test"}), 200)


def test_an_unverified_sign_up_still_asks_for_a_reset_not_a_second_account(lab: Lab) -> None:
    """A sign-up that never verified still sits on its own address: that one is a claim the
    inbox's owner takes over by a reset (which wipes what it set up), as before."""
    lab.signup(VICTIM, PASSWORD, verified=False)
    r = lab.client().post("/auth/signup", json={"email": VICTIM, "password": PASSWORD})
    assert r.status_code == 409 and r.json()["code"] == "email_taken", r.text
    expect(lab.client().post("/auth/password-reset", json={"email": VICTIM}), 202)
    assert "reset-password" in lab.last_link(VICTIM)


# Medium 4: claiming through the attacker's link -----------------------------------------------


def test_the_owner_cannot_verify_the_squatters_change_by_clicking_its_link(lab: Lab) -> None:
    """The victim opens the link Mallory's change mailed them, then resets the password: that
    used to hand the victim an account holding Mallory's passkey, TOTP and API key."""
    squat(lab)
    link = path_of(lab.last_link(VICTIM))
    r = lab.client().get(link)
    assert r.status_code == 401, r.text
    assert r.json()["account"] == f"the account of {MALLORY}", r.text
    assert "Sign in to that account" in r.json()["error"]
    page = lab.client().get(link, headers={"accept": "text/html"})
    assert page.status_code == 401 and f"the account of {MALLORY}" in page.text
    someone = lab.person(ALICE, PASSWORD)
    r = someone.get(link)
    assert r.status_code == 403 and r.json()["code"] == "wrong_account", r.text
    assert lab.user(VICTIM)["email_verified"] == 0
    # Nothing to reset into: no reset link for the address.
    expect(lab.client().post("/auth/password-reset", json={"email": VICTIM}), 202)
    assert all("reset-password" not in (m["link"] or "") for m in lab.mail(VICTIM))


def test_the_account_that_asked_verifies_its_change_signed_in(lab: Lab) -> None:
    mallory = squat(lab, "mallory@new.test")
    r = lab.client().get(path_of(lab.last_link("mallory@new.test")))
    assert r.status_code == 401, r.text  # refused without consuming the link
    other_session = lab.client()
    lab.login(other_session, "mallory@new.test", PASSWORD)
    expect(other_session.get(path_of(lab.last_link("mallory@new.test"))), 200)
    assert expect(mallory.get("/me"), 200).json()["email_verified"] is True


# Low 5: reset to a typo -----------------------------------------------------------------------


def test_a_never_verified_account_that_moves_to_a_typo_gives_it_no_reset(lab: Lab) -> None:
    client = lab.person("alice@work.test", PASSWORD, verified=False)
    confirm(client)
    expect(client.put("/me/email", json={"email": "alice@wrok.test"}), 200)
    expect(lab.client().post("/auth/password-reset", json={"email": "alice@wrok.test"}), 202)
    assert all("reset-password" not in (m["link"] or "") for m in lab.mail("alice@wrok.test"))
    assert count(lab, "signup_claims") == 0


def test_a_sign_ups_own_address_still_gets_its_claim_link(lab: Lab) -> None:
    lab.signup(VICTIM, PASSWORD, verified=False)
    expect(lab.client().post("/auth/password-reset", json={"email": VICTIM}), 202)
    token = token_of(lab.last_link(VICTIM))
    r = lab.client().post(
        "/auth/password-reset/complete", json={"token": token, "new_password": "mine at last"}
    )
    assert r.status_code == 200, r.text
    assert lab.user(VICTIM)["email_verified"] == 1
