"""Turning two-factor authentication off takes a code, and is a step-up action: the dialog
must not spend a code first, or the one typed in the card is refused as used. The rule
(static/api.js): a request that carries a factor never has the dialog ask for that factor."""

from collections.abc import Callable

import pytest
from browser_helpers import confirm_with_password, dialog, sign_in_with_totp, with_totp
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
    expect(dialog(page).get_by_label("Your password")).to_be_focused()
    dialog(page).get_by_role("button", name="Use another method").click()
    expect(page.locator("#confirm-methods label:visible")).to_have_text(
        ["Password", "Recovery code"]
    )
    confirm_with_password(page)

    expect(card.locator("[data-status]")).to_have_text("Two-factor authentication is off.")
    expect(card.locator("#twofa-state")).to_have_text("Off")
    user = live.user(email)
    assert user is not None and user["totp_enabled"] == 0
