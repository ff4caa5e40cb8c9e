"""The app opened at the address uvicorn prints (``http://127.0.0.1:PORT``) instead of its
origin (``http://localhost:PORT``): the page says where to go, and a refused sign-in names
the address to open."""

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from browser_helpers import PASSWORD, axe_violations
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser


def test_opening_127_0_0_1_says_which_address_to_open(
    page: Page, live: Lab, new_email: Callable[[str], str]
) -> None:
    email = new_email("wanda")
    live.enroll(email)
    origin = live.settings.origin
    wrong = f"http://127.0.0.1:{urlsplit(origin).port}"
    page.goto(f"{wrong}/signin")
    banner = page.locator("#origin-warning")
    expect(banner).to_contain_text(f"This app is set up for {origin}")
    expect(banner).to_contain_text(f"open at {wrong}")
    assert axe_violations(page) == []  # the banner reads well in light and dark mode

    form = page.locator("#password-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(form.get_by_role("alert")).to_contain_text(f"Open {origin} and try again")

    banner.get_by_role("link", name=f"Open {origin}").click()
    expect(page).to_have_url(f"{origin}/signin")
    expect(page.locator("#origin-warning")).to_have_count(0)
