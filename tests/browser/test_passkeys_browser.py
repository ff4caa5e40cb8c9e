"""Passkeys in Chromium with its virtual authenticator (CDP ``WebAuthn``): add one behind the
dialog, sign in with it, confirm identity with it, and go passkey-only."""

from collections.abc import Callable
from typing import Any

import pytest
from browser_helpers import (
    PASSWORD,
    OpenPage,
    arrived,
    change_email,
    confirmed_method,
    dialog,
    dialog_opens,
    expire_window,
    pill_says_confirmed,
    screenshot,
    signed_in,
)
from playwright.sync_api import Locator, Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]


def virtual_authenticator(page: Page) -> tuple[Any, str]:
    """A platform authenticator that verifies the user (as a fingerprint or PIN would): the
    DevTools session that drives it, and its id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
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
    return cdp, added["authenticatorId"]


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
    signed_in(page, email)

    add_passkey(page, "This laptop")
    assert live.query("SELECT name FROM passkeys ORDER BY id DESC")[0][0] == "This laptop"
    page.mouse.move(0, 0)
    screenshot(page, "account.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    arrived(page, "/signin?signed_out=1")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url("/account")
    expect(page.locator("#nav-email")).to_have_text(email)
    expect(page.locator("#window-status")).to_have_text("Sensitive actions will ask you to confirm")

    # The dialog opens on the passkey she just signed in with; the password is one click away.
    page.get_by_label("New email address").fill("pat.elsewhere@example.com")
    page.get_by_role("button", name="Change email").click()
    expect(dialog(page).get_by_role("button", name="Use passkey")).to_be_focused()
    expect(dialog(page).get_by_role("button", name="Use another method")).to_be_visible()
    expect(page.locator("#confirm-lost-device")).to_be_hidden()  # she has a password too
    dialog(page).get_by_role("button", name="Cancel").click()
    expect(dialog(page)).to_be_hidden()


def test_confirming_with_a_passkey_and_going_passkey_only(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("kim"), new_email("kim.new")
    live.person(email)
    virtual_authenticator(page)
    signed_in(page, email)
    add_passkey(page, "Phone")

    # One click only warns: a lost device would leave a password reset as the way back.
    remove = page.get_by_role("button", name="Remove my password and use passkeys only")
    remove.click()
    warning = page.get_by_role("group", name="Sign in with passkeys only?")
    expect(warning).to_be_focused()
    expect(warning).to_contain_text("only with your one passkey")
    expect(warning).to_contain_text("If you lose the device")
    warning.get_by_role("button", name="Keep my password").click()
    expect(warning).to_be_hidden()
    expect(remove).to_be_focused()
    assert live.user(email)["password_hash"] is not None

    # Inside the window: removing the password asks nothing.
    remove.click()
    warning.get_by_role("button", name="Remove my password").click()
    expect(page.locator("#password-card [data-status]")).to_contain_text("Password removed")
    assert dialog_opens(page) == 1
    assert live.user(email)["password_hash"] is None

    expire_window(live, email)
    page.get_by_label("New email address").fill(changed)
    page.get_by_role("button", name="Change email").click()
    expect(dialog(page)).to_be_visible()
    expect(page.get_by_role("button", name="Use another method")).to_be_hidden()  # all she has
    expect(page.locator("#confirm-lost-device")).to_contain_text("Reset your password by email")
    dialog(page).get_by_role("button", name="Use passkey").click()

    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#current-email")).to_have_text(changed)
    assert confirmed_method(live, changed) == "passkey"
    assert dialog_opens(page) == 2
    pill_says_confirmed(page)


def passkey_refusal(page: Page, address: str) -> Locator:
    """Change the email to ``address``, choose the passkey in the dialog: its error line."""
    change_email(page, address)
    dialog(page).get_by_role("button", name="Use another method").click()
    page.locator("#confirm-methods").get_by_label("Passkey").check()
    dialog(page).get_by_role("button", name="Use passkey").click()
    return dialog(page).get_by_role("alert")


def test_a_passkey_missing_from_this_device_says_so(
    page: Page, open_page: OpenPage, live: Lab, new_email: NewEmail
) -> None:
    """Browsers refuse "no passkey here" and "prompt closed" alike (NotAllowedError). A
    browser that never made or used any of the account's passkeys says the likely cause."""
    email = new_email("two.devices")
    live.person(email)
    cdp, laptop = virtual_authenticator(page)
    signed_in(page, email)
    add_passkey(page, "Laptop")

    phone = open_page(1100, 900)  # another device: a profile and an authenticator of its own
    virtual_authenticator(phone)
    signed_in(phone, email)
    expect(passkey_refusal(phone, new_email("two.devices.new"))).to_have_text(
        "None of your passkeys is saved on this device. Use the device or security key"
        " you added it on, or another way."
    )

    # The laptop made it, so its refusal is the prompt's (here: the key was wiped from it).
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": laptop})
    expire_window(live, email)
    expect(passkey_refusal(page, new_email("two.devices.other"))).to_have_text(
        "The passkey prompt was closed or timed out."
    )
