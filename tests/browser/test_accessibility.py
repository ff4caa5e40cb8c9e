"""axe-core (through axe-playwright-python) on every page and on the open dialog, in light
and dark mode: no serious or critical violation."""

from collections.abc import Callable

import pytest
from browser_helpers import dialog, serious_violations, sign_in_with_totp, with_totp
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]
PUBLIC_PAGES = {
    "/signin": "Sign in",
    "/signup": "Create your account",
    "/forgot-password": "Reset your password",
    "/reset-password?token=x": "Choose a new password",
    "/verify-email?token=x": "This link does not work",  # the notice page
    "/dev/mailbox": "Dev mailbox",
}


def test_no_serious_accessibility_violations(page: Page, live: Lab, new_email: NewEmail) -> None:
    found: dict[str, list[str]] = {}
    for path, heading in PUBLIC_PAGES.items():
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        found[path] = serious_violations(page)

    email = new_email("ally")
    device = with_totp(live, email)
    sign_in_with_totp(page, email, device.code())
    page.get_by_label("New organization").fill("Ally Labs")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("article", name="Ally Labs")).to_contain_text("No API keys yet.")
    expect(page.locator("#session-list .item")).not_to_have_count(0)
    found["/account"] = serious_violations(page)

    page.get_by_label("New email address").fill(new_email("ally.new"))
    page.get_by_role("button", name="Change email").click()
    dialog(page).get_by_role("button", name="Use another method").click()
    page.locator("#confirm-methods").get_by_label("Password").check()
    dialog(page).get_by_label("Your password").fill("not my password")
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(dialog(page).get_by_role("alert")).to_have_text("Invalid credentials")
    found["the dialog, with its methods and an error"] = serious_violations(page, "#confirm-dialog")

    assert not any(found.values()), {where: v for where, v in found.items() if v}
