"""What the pages say while and after they work: status lines that are in the page before
their message, busy states that are announced and keep the focus, and the delete-account
error tied to its checkbox."""

from collections.abc import Callable

import pytest
from browser_helpers import (
    PASSWORD,
    change_email,
    confirm_with_password,
    dialog,
    hold,
    signed_in,
    until,
)
from playwright.sync_api import Page, expect
from probes import HIDDEN_LIVE_REGIONS, LATE_LIVE_REGIONS

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]


def no_late_regions(page: Page) -> None:
    assert page.evaluate(HIDDEN_LIVE_REGIONS) == [], page.url
    assert page.evaluate("window.__lateRegions") == [], page.url


def test_status_lines_exist_before_their_message(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    page.context.add_init_script(LATE_LIVE_REGIONS)
    email = new_email("say")
    live.person(email)

    page.goto("/signin?signed_out=1")
    expect(page.locator("#signin-notice")).to_have_text("You're signed out.")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#password-form [role=alert]")).to_have_text(
        "Enter your email and password."
    )
    no_late_regions(page)

    page.goto("/forgot-password")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#forgot-form [role=status]")).to_have_text("Enter your email address.")
    no_late_regions(page)

    page.goto("/signup")
    page.locator("#signup-form").get_by_label("Email").fill(new_email("say.up"))
    page.locator("#signup-form").get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-message")).to_contain_text("Account created")
    no_late_regions(page)

    signed_in(page, email)
    no_late_regions(page)
    change_email(page, new_email("say.new"))
    dialog(page).get_by_label("Your password").fill("not my password")
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(dialog(page).get_by_role("alert")).to_have_text("Invalid credentials")
    page.keyboard.press("Escape")
    expect(page.locator("#email-card [data-status]")).to_have_text(
        "Cancelled: nothing was changed."
    )
    no_late_regions(page)


def test_busy_is_announced_and_the_focus_stays(page: Page, live: Lab, new_email: NewEmail) -> None:
    """While the change is on its way, before and after the dialog: the status says so, the
    button refuses a second press without losing the focus."""
    email, changed = new_email("busy"), new_email("busy.new")
    live.person(email)
    signed_in(page, email)
    held = hold(page, "**/me/email")
    button = page.get_by_role("button", name="Change email")
    status = page.locator("#email-card [data-status]")

    change_email(page, changed)
    expect(status).to_have_text("Changing your email address…")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(button).to_be_focused()
    until(page, lambda: len(held) == 1, "the change to be on its way")
    held[0].continue_()  # 403: the dialog
    confirm_with_password(page)
    expect(dialog(page)).to_be_hidden()
    until(page, lambda: len(held) == 2, "the retry to be on its way")
    expect(button).to_be_focused()  # back from the dialog, while the retry runs
    expect(status).to_have_text("Changing your email address…")
    held[1].continue_()
    expect(status).to_have_text("Email updated. Verify your new email address.")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    expect(button).to_be_focused()


def test_the_delete_error_belongs_to_its_checkbox(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email = new_email("keep")
    live.person(email)
    signed_in(page, email)
    sure = page.get_by_label("I understand this cannot be undone")

    page.get_by_role("button", name="Delete my account").click()
    message = "Tick the box to confirm you want to delete your account."
    expect(page.locator("#delete-status")).to_have_text(message)
    expect(sure).to_be_focused()
    expect(sure).to_have_attribute("aria-invalid", "true")
    expect(sure).to_have_accessible_description(message)
    assert live.user(email) is not None

    sure.check()
    expect(sure).not_to_have_attribute("aria-invalid", "true")
