"""Passkeys in Chromium with its virtual authenticator (CDP ``WebAuthn``): add one behind the
dialog, sign in with it, confirm identity with it, and go passkey-only."""

from collections.abc import Callable
from typing import Any

import pytest
from browser_helpers import (
    PASSWORD,
    confirmed_method,
    dialog,
    dialog_opens,
    expire_window,
    screenshot,
    sign_in,
)
from playwright.sync_api import Page, expect

from course_app.testing import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]


def virtual_authenticator(page: Page) -> Any:
    """A platform authenticator that verifies the user (as a fingerprint or PIN would)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def add_passkey(page: Page, name: str) -> None:
    """Through the dialog (password), as adding a passkey is a sensitive action."""
    card = page.locator("#passkeys-card")
    card.get_by_label("Name for the new passkey").fill(name)
    card.get_by_role("button", name="Add a passkey").click()
    expect(dialog(page)).to_be_visible()
    dialog(page).get_by_label("Your password").fill(PASSWORD)
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(card.locator("[data-status]")).to_have_text("Passkey added.")
    expect(card.locator("#passkey-list")).to_contain_text(name)


def test_adding_a_passkey_then_signing_in_with_it(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email = new_email("pat")
    owner = live.person(email)
    org_id = live.create_org(owner, "Keystone")
    assert owner.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    r = owner.post(f"/orgs/{org_id}/api-keys", json={"name": "nightly backups"})
    assert r.status_code == 201, r.text
    assert owner.post("/auth/logout").status_code == 204
    virtual_authenticator(page)
    sign_in(page, email)

    add_passkey(page, "This laptop")
    assert live.query("SELECT name FROM passkeys ORDER BY id DESC")[0][0] == "This laptop"
    page.mouse.move(0, 0)
    screenshot(page, "account.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/signin?signed_out=1")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url("/account")
    expect(page.locator("#nav-email")).to_have_text(email)
    expect(page.locator("#window-status")).to_have_text("Sensitive actions will ask you to confirm")


def test_confirming_with_a_passkey_and_going_passkey_only(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("kim"), new_email("kim.new")
    live.person(email)
    virtual_authenticator(page)
    sign_in(page, email)
    add_passkey(page, "Phone")

    # Inside the window: removing the password asks nothing.
    page.get_by_role("button", name="Remove my password and use passkeys only").click()
    expect(page.locator("#password-card [data-status]")).to_contain_text("Password removed")
    assert dialog_opens(page) == 1

    expire_window(live, email)
    page.get_by_label("New email address").fill(changed)
    page.get_by_role("button", name="Change email").click()
    expect(dialog(page)).to_be_visible()
    expect(page.locator("#confirm-methods")).to_be_hidden()  # the passkey is all she has
    dialog(page).get_by_role("button", name="Use passkey").click()

    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#current-email")).to_have_text(changed)
    assert confirmed_method(live, changed) == "passkey"
    assert dialog_opens(page) == 2
