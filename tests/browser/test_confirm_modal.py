"""The "Confirm your identity" dialog in a real browser: it opens when the server says
``reauth_required``, the original request is retried, and it stays away while the window is
open or when the answer is a plain "forbidden"."""

from collections.abc import Callable

import pytest
from browser_helpers import (
    change_email,
    confirm_with_password,
    confirmed_method,
    dialog,
    dialog_opens,
    expire_window,
    pill_says_confirmed,
    screenshot,
    sign_in,
    sign_in_with_totp,
    signed_in,
    with_totp,
)
from playwright.sync_api import Page, Route, expect

from course_kit.lab import Lab, path_of

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]


def test_changing_the_email_asks_once_then_applies_the_change(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("ada"), new_email("ada.new")
    live.person(email)
    sign_in(page, email)

    change_email(page, changed)

    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_label("Your password")).to_be_focused()
    expect(dialog(page)).to_contain_text("To change your email address, confirm it's you.")
    expect(dialog(page)).to_contain_text(f"Signed in as {email}")
    expect(page.locator("#confirm-username")).to_have_value(email)  # for password managers
    expect(page.get_by_role("button", name="Use another method")).to_be_hidden()  # she has one
    screenshot(page, "confirm-modal.png")
    confirm_with_password(page)

    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#email-card [data-status]")).to_have_text(
        "Email updated. Verify your new email address."
    )
    expect(page.locator("#current-email")).to_have_text(changed)
    assert live.user(changed) is not None  # the original PUT was retried and applied
    assert dialog_opens(page) == 1
    pill_says_confirmed(page)


def test_three_sensitive_actions_in_a_row_ask_once_until_the_window_closes(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("grace"), new_email("grace.new")
    owner = live.person(email)
    live.create_org(owner, "Hopper Labs")
    signed_in(page, email)

    change_email(page, changed)
    confirm_with_password(page)
    expect(page.locator("#email-card [data-status]")).to_contain_text("Email updated")
    # An unproven address may not mint keys: grace opens the link mailed to her new address,
    # signed in (a change's link works only for the account it names).
    r = owner.get(path_of(live.last_link(changed)))
    assert r.status_code == 200, r.text

    org = page.get_by_role("article", name="Hopper Labs")
    org.get_by_label("New API key name").fill("deploys")
    org.get_by_role("button", name="Create API key").click()
    expect(org.locator(".status")).to_have_text('API key "deploys" created.')
    expect(org.locator(".secret-box code")).to_contain_text("sk_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    org.get_by_role("button", name="Copy key").click()
    expect(org.locator(".secret-box")).to_contain_text("Copied.")
    secret = org.locator(".secret-box code").inner_text()
    assert page.evaluate("navigator.clipboard.readText()") == secret

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
    signed_in(page, email)
    change_email(page, changed)
    field = dialog(page).get_by_label("Your password")

    confirm_with_password(page, "not my password")

    expect(dialog(page).get_by_role("alert")).to_have_text("Invalid credentials")
    expect(dialog(page)).to_be_visible()
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")  # the error belongs to the field
    expect(field).to_have_attribute("aria-describedby", "confirm-error")
    assert live.user(changed) is None

    for left in ("2 attempts", "1 attempt"):  # failures 3 and 4 of the five allowed
        confirm_with_password(page, "not my password")
        if left == "2 attempts":
            confirm_with_password(page, "not my password")
        expect(dialog(page).get_by_role("alert")).to_have_text(
            f"Invalid credentials. {left} left before this session is signed out."
        )

    held: list[Route] = []  # the answer is held back a moment, to see the dialog wait for it
    page.route("**/auth/confirm", lambda route: held.append(route))
    confirm_with_password(page)
    submit = dialog(page).locator("#confirm-submit")
    expect(submit).to_have_text("Checking…")
    expect(submit).to_be_disabled()
    expect(page.locator("#confirm-form")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1, held
    held[0].continue_()
    page.unroute("**/auth/confirm")
    expect(page.locator("#current-email")).to_have_text(changed)
    assert dialog_opens(page) == 1


def test_cancelling_abandons_the_action(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("joan"), new_email("joan.new")
    live.person(email)
    signed_in(page, email)
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
    """Bob is an admin when the page loads, then demoted to member: his click is refused
    with "forbidden", which no confirmation could fix, so no dialog opens."""
    owner_email, bob = new_email("alice"), new_email("bob")
    owner = live.person(owner_email)
    org_id = live.create_org(owner, "Acme")
    live.person(bob)
    live.add_member(owner, org_id, bob, "admin")
    signed_in(page, bob)
    org = page.get_by_role("article", name="Acme")
    expect(org.get_by_text("No API keys yet.")).to_be_visible()

    with live.db() as conn:
        conn.execute(
            "UPDATE memberships SET role = 'member' WHERE org_id = ? AND user_id ="
            " (SELECT id FROM users WHERE email = ?)",
            (org_id, bob),
        )
    org.get_by_label("New API key name").fill("sneaky")
    org.get_by_role("button", name="Create API key").click()

    expect(org.locator(".status")).to_have_text(
        "Forbidden: only owners and admins can manage this organization's API keys."
        " Nothing was changed."
    )
    assert dialog_opens(page) == 0
    assert live.query("SELECT COUNT(*) FROM api_keys WHERE org_id = ?", org_id)[0][0] == 0

    page.reload()  # as a member: no key list, no form that can only fail, no error
    expect(org).to_contain_text("Only owners and admins of Acme see and manage its API keys")
    expect(org.get_by_role("button", name="Create API key")).to_have_count(0)
    expect(org.get_by_text("Forbidden")).to_have_count(0)


def test_signing_in_and_confirming_with_totp(page: Page, live: Lab, new_email: NewEmail) -> None:
    """The dialog opens on the method this browser signed in with, offers the others behind
    "Use another method", and a code that was already used says so."""
    email, changed = new_email("carol"), new_email("carol.new")
    device = with_totp(live, email)
    sign_in_with_totp(page, email, device.code())
    expect(page.locator("#twofa-state")).to_have_text("On")

    change_email(page, changed)
    code_field = dialog(page).get_by_label("6-digit code from your authenticator app")
    expect(code_field).to_be_focused()  # remembered from the sign-in, not "Password"
    dialog(page).get_by_role("button", name="Use another method").click()
    methods = page.locator("#confirm-methods")
    expect(methods.locator("label:visible")).to_have_text(
        ["Password", "Authenticator code", "Recovery code"]
    )
    expect(methods.get_by_label("Authenticator code")).to_be_checked()
    screenshot(page, "confirm-modal-methods.png")
    screenshot(page, "confirm-modal-dark.png", dark=True)
    used = device.code()
    code_field.fill(used)
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(page.locator("#current-email")).to_have_text(changed)
    assert confirmed_method(live, changed) == "totp"
    pill_says_confirmed(page)

    expire_window(live, changed)
    change_email(page, email)
    code_field.fill(used)
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(dialog(page).get_by_role("alert")).to_have_text(
        "That code was already used. Wait for your authenticator app to show a new one."
    )
    dialog(page).get_by_role("button", name="Use another method").click()
    methods.get_by_label("Password").check()
    confirm_with_password(page)
    expect(page.locator("#current-email")).to_have_text(email)


def test_the_pill_follows_every_confirmation(page: Page, live: Lab, new_email: NewEmail) -> None:
    """Whatever the action that asked, and even when the retried request then fails, the
    pill shows the window the confirmation opened (the server's ``expires_at``)."""
    email, taken = new_email("mary"), new_email("taken")
    owner = live.person(email)  # also a session elsewhere, to revoke
    live.person(taken)
    live.create_org(owner, "Jackson Labs")
    signed_in(page, email)
    pill = page.locator("#window-status")
    org = page.get_by_role("article", name="Jackson Labs")

    def closed() -> None:
        expire_window(live, email)
        page.reload()
        expect(pill).to_have_text("Sensitive actions will ask you to confirm")

    org.get_by_label("New API key name").fill("ci")
    org.get_by_role("button", name="Create API key").click()
    confirm_with_password(page)
    expect(org.locator(".status")).to_have_text('API key "ci" created.')
    pill_says_confirmed(page)

    closed()
    page.locator("#session-list").get_by_role("button", name="Revoke").first.click()
    confirm_with_password(page)
    expect(page.locator("#sessions-card [data-status]")).to_contain_text("Session revoked")
    pill_says_confirmed(page)

    closed()
    change_email(page, taken)  # confirmed, then the retried PUT fails with 409
    confirm_with_password(page)
    expect(page.locator("#email-card [data-status]")).to_have_text(
        "Email already in use. Nothing was changed."
    )
    pill_says_confirmed(page)
    # The countdown changes every second: not a live region, or it would be read out every
    # second. The hidden status line says only that the window opened.
    live_pill = "document.getElementById('window-status').closest('[aria-live], [role]')"
    assert page.evaluate(live_pill) is None
    expect(page.locator("#window-announce")).to_contain_text("Identity confirmed")
