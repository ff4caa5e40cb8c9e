"""Turning two-factor authentication off takes a code, and is a step-up action: the dialog
must not spend a code first, or the one typed in the card is refused as used. The rule
(static/api.js): a request that carries a factor never has the dialog ask for that factor."""

from collections.abc import Callable

import pytest
from browser_helpers import dialog, screenshot, sign_in_with_totp, with_totp
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser


def test_the_code_typed_to_turn_2fa_off_is_spent_once(
    page: Page, live: Lab, new_email: Callable[[str], str]
) -> None:
    email = new_email("carol")
    device = with_totp(live, email)
    sign_in_with_totp(page, email, device.code())  # this browser now opens the dialog on "totp"
    card = page.locator("#twofa-card")

    card.get_by_label("Authenticator code or recovery code").fill(device.code())
    card.get_by_role("button", name="Turn off").click()
    expect(dialog(page)).to_contain_text(
        "This action already takes your authenticator code, so confirm another way."
    )
    # The policy asks a second factor (a password will not do): of Carol's ways, only a
    # recovery code is left, and the dialog says why in one line.
    expect(page.locator("#confirm-level")).to_have_text(
        "A password is not enough to turn off two-factor authentication: use a recovery code."
    )
    expect(dialog(page).get_by_role("textbox", name="Recovery code")).to_be_focused()
    expect(dialog(page).get_by_role("button", name="Use another method")).to_be_hidden()
    expect(dialog(page).get_by_label("Your password")).to_be_hidden()
    screenshot(page, "confirm-modal-level.png")
    dialog(page).get_by_role("textbox", name="Recovery code").fill(live.recovery_codes(email)[0])
    dialog(page).get_by_role("button", name="Confirm").click()

    expect(card.locator("[data-status]")).to_have_text("Two-factor authentication is off.")
    expect(card.locator("#twofa-state")).to_have_text("Off")
    user = live.user(email)
    assert user is not None and user["totp_enabled"] == 0


def test_the_dialog_offers_only_what_the_action_accepts(
    page: Page, live: Lab, new_email: Callable[[str], str]
) -> None:
    """Carol has a password, an authenticator and recovery codes. Changing her address takes
    any of them; deleting her account (exercise 6's row) takes no password, and says so."""
    email = new_email("carol")
    device = with_totp(live, email)
    sign_in_with_totp(page, email, device.code())
    methods = page.locator("#confirm-methods label:visible")

    page.get_by_label("New email address").fill(new_email("carol.new"))
    page.get_by_role("button", name="Change email").click()
    dialog(page).get_by_role("button", name="Use another method").click()
    expect(methods).to_have_text(["Password", "Authenticator code", "Recovery code"])
    expect(page.locator("#confirm-level")).to_be_hidden()
    dialog(page).get_by_role("button", name="Cancel").click()

    page.locator("#delete-sure").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#confirm-level")).to_have_text(
        "A password is not enough to delete your account:"
        " use your authenticator code or a recovery code."
    )
    dialog(page).get_by_role("button", name="Use another method").click()
    expect(methods).to_have_text(["Authenticator code", "Recovery code"])
    dialog(page).get_by_role("button", name="Cancel").click()
    assert live.user(email) is not None
