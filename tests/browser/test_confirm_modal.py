"""The "Confirm your identity" dialog in a real browser: it opens when the server says
``reauth_required``, the original request is retried, and it stays away while the window is
open or when the answer is a plain "forbidden"."""

from collections.abc import Callable

import pytest
from browser_helpers import (
    PASSWORD,
    TotpDevice,
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


def change_email(page: Page, email: str) -> None:
    page.get_by_label("New email address").fill(email)
    page.get_by_role("button", name="Change email").click()


def confirm_with_password(page: Page, password: str = PASSWORD) -> None:
    dialog(page).get_by_label("Your password").fill(password)
    dialog(page).get_by_role("button", name="Confirm").click()


def test_changing_the_email_asks_once_then_applies_the_change(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("ada"), new_email("ada.new")
    live.person(email)
    sign_in(page, email)

    change_email(page, changed)

    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_label("Your password")).to_be_focused()
    expect(page.locator("#confirm-methods")).to_be_hidden()  # password is her only method
    screenshot(page, "confirm-modal.png")
    confirm_with_password(page)

    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#email-card [data-status]")).to_have_text(
        "Email updated. Verify your new email address."
    )
    expect(page.locator("#current-email")).to_have_text(changed)
    assert live.user(changed) is not None  # the original PUT was retried and applied
    assert dialog_opens(page) == 1
    expect(page.locator("#window-status")).to_contain_text("Identity confirmed")


def test_three_sensitive_actions_in_a_row_ask_once_until_the_window_closes(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("grace"), new_email("grace.new")
    owner = live.person(email)
    live.create_org(owner, "Hopper Labs")
    sign_in(page, email)

    change_email(page, changed)
    confirm_with_password(page)
    expect(page.locator("#email-card [data-status]")).to_contain_text("Email updated")

    org = page.get_by_role("article", name="Hopper Labs")
    org.get_by_label("New API key name").fill("deploys")
    org.get_by_role("button", name="Create API key").click()
    expect(org.locator(".status")).to_have_text('API key "deploys" created.')
    expect(org.locator(".secret-box code")).to_contain_text("sk_")

    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-card [data-status]")).to_contain_text("Password changed")
    assert dialog_opens(page) == 1

    expire_window(live, changed)
    org.get_by_role("button", name="Revoke API key deploys").click()
    expect(dialog(page)).to_be_visible()
    confirm_with_password(page, "a brand new password")
    expect(org.locator(".status")).to_have_text('API key "deploys" revoked.')
    expect(org.get_by_text("Revoked", exact=True)).to_be_visible()
    assert dialog_opens(page) == 2


def test_a_wrong_password_keeps_the_dialog_open(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("linus"), new_email("linus.new")
    live.person(email)
    sign_in(page, email)
    change_email(page, changed)

    confirm_with_password(page, "not my password")

    expect(dialog(page).get_by_role("alert")).to_have_text("Invalid credentials")
    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_label("Your password")).to_have_value("")
    expect(dialog(page).get_by_label("Your password")).to_be_focused()
    assert live.user(changed) is None

    confirm_with_password(page)
    expect(page.locator("#current-email")).to_have_text(changed)
    assert dialog_opens(page) == 1


def test_cancelling_abandons_the_action(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("joan"), new_email("joan.new")
    live.person(email)
    sign_in(page, email)
    status = page.locator("#email-card [data-status]")

    change_email(page, changed)
    expect(dialog(page)).to_be_visible()
    for _ in range(6):  # the focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    expect(status).to_have_text("Cancelled: nothing was changed.")
    expect(page.get_by_role("button", name="Change email")).to_be_focused()

    page.get_by_role("button", name="Change email").click()
    dialog(page).get_by_role("button", name="Cancel").click()
    expect(dialog(page)).to_be_hidden()
    expect(status).to_have_text("Cancelled: nothing was changed.")
    assert live.user(changed) is None
    assert confirmed_method(live, email) is None


def test_a_forbidden_action_shows_an_error_and_no_dialog(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    admin, member = new_email("alice"), new_email("bob")
    owner = live.person(admin)
    org_id = live.create_org(owner, "Acme")
    live.person(member)
    live.add_member(owner, org_id, member, "member")
    sign_in(page, member)

    org = page.get_by_role("article", name="Acme")
    expect(org.get_by_text("Forbidden: only owners and admins")).to_be_visible()
    org.get_by_label("New API key name").fill("sneaky")
    org.get_by_role("button", name="Create API key").click()

    expect(org.locator(".status")).to_have_text(
        "Forbidden: only owners and admins can manage this organization's API keys."
    )
    assert dialog_opens(page) == 0
    assert live.query("SELECT COUNT(*) FROM api_keys WHERE org_id = ?", org_id)[0][0] == 0


def test_signing_in_and_confirming_with_totp(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("carol"), new_email("carol.new")
    client = live.person(email)
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    device = TotpDevice(client.post("/me/2fa/setup").json()["secret"])
    r = client.post("/me/2fa/enable", json={"code": device.code()})
    assert r.status_code == 200, r.text

    page.goto("/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("#second-factor-form").get_by_label("6-digit code").fill(device.code())
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url("/account")
    expect(page.locator("#twofa-state")).to_have_text("On")

    change_email(page, changed)
    methods = page.locator("#confirm-methods")
    expect(methods).to_be_visible()
    expect(methods.locator("label:visible")).to_have_text(
        ["Password", "Authenticator code", "Recovery code"]
    )
    methods.get_by_label("Authenticator code").check()
    screenshot(page, "confirm-modal-methods.png")
    dialog(page).get_by_label("6-digit code from your authenticator app").fill(device.code())
    dialog(page).get_by_role("button", name="Confirm").click()

    expect(page.locator("#current-email")).to_have_text(changed)
    assert confirmed_method(live, changed) == "totp"
