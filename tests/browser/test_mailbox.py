"""Signing up in the browser and verifying the address from the dev mailbox page."""

from collections.abc import Callable

import pytest
from browser_helpers import PASSWORD, arrived, sign_in
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser


def test_sign_up_then_verify_from_the_dev_mailbox(
    page: Page, live: Lab, new_email: Callable[[str], str]
) -> None:
    email = new_email("margaret")
    page.goto("/signup")
    page.locator("#signup-form").get_by_label("Email").fill(email)
    page.locator("#signup-form").get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-email")).to_have_text(email)

    page.get_by_role("link", name="Open the dev mailbox").click()
    arrived(page, "/dev/mailbox")
    page.get_by_placeholder("Filter by recipient").fill(email)
    page.get_by_role("button", name="Filter").click()
    message = page.locator(".mail").filter(has_text="Verify your email address")
    expect(message).to_have_count(1)
    message.get_by_role("button", name="Verify email address").click()
    expect(message.get_by_role("status")).to_have_text("Email verified.")
    opened = message.get_by_role("button", name="Opened")
    expect(opened).to_have_attribute("aria-disabled", "true")  # done: not a button to press again
    user = live.user(email)
    assert user is not None and user["email_verified"] == 1

    sign_in(page, email)
    expect(page.locator("#email-badge")).to_have_text("Verified")
