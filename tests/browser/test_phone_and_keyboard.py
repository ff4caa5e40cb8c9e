"""The dialog and the pages on a 375-pixel phone screen, and the dialog with the keyboard
alone (three methods: password, authenticator code, recovery code)."""

from collections.abc import Callable

import pytest
from browser_helpers import PASSWORD, dialog, screenshot, sign_in_with_totp, with_totp
from playwright.sync_api import Locator, Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]
PHONE = {"width": 375, "height": 667}


def assert_no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{page.url} is {wide} px wide on a {PHONE['width']} px screen"


def assert_on_screen(box_of: Locator) -> None:
    box = box_of.bounding_box()
    assert box is not None, f"{box_of} is not shown"
    inside = (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PHONE["width"]
        and box["y"] + box["height"] <= PHONE["height"]
    )
    assert inside, f"{box_of} at {box} is not inside the {PHONE} screen"


def test_on_a_phone_nothing_is_cut_off(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("maximiliana.longaddress"), new_email("max.new")
    device = with_totp(live, email)
    page.set_viewport_size(PHONE)
    for path in ("/signin", "/signup", "/forgot-password"):
        page.goto(path)
        assert_no_sideways_scroll(page)
    sign_in_with_totp(page, email, device.code())
    expect(page.locator("#session-list .item")).not_to_have_count(0)
    assert_no_sideways_scroll(page)
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["height"] < 40, f"the brand wraps: {brand}"
    assert_on_screen(page.get_by_role("button", name="Sign out"))

    page.get_by_label("New email address").fill(changed)
    page.get_by_role("button", name="Change email").click()
    expect(dialog(page)).to_be_visible()
    dialog(page).get_by_role("button", name="Use another method").click()
    for label in page.locator("#confirm-methods label:visible").all():
        height = (label.bounding_box() or {}).get("height", 0)
        assert height < 40, f"{label.inner_text()} wraps: {height} px"
    assert_on_screen(dialog(page))
    for part in ("6-digit code from your authenticator app", "Confirm", "Cancel"):
        target = dialog(page).get_by_role("button", name=part, exact=True)
        if part.startswith("6-digit"):
            target = dialog(page).get_by_label(part)
        assert_on_screen(target)
    screenshot(page, "confirm-modal-phone.png")
    dialog(page).get_by_label("Password", exact=True).check()
    dialog(page).get_by_label("Your password").fill(PASSWORD)
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(page.locator("#current-email")).to_have_text(changed)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/signin?signed_out=1")
    page.goto("/dev/mailbox")
    expect(page.locator(".mail").first).to_be_visible()
    assert_no_sideways_scroll(page)


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el.closest("dialog")) return "outside the dialog: " + el.tagName;
  if (el.type === "radio") return "radio " + el.value + (el.checked ? " (checked)" : "");
  return el.tagName === "INPUT" ? el.id : el.textContent.trim();
}"""


def test_the_dialog_by_keyboard_alone(page: Page, live: Lab, new_email: NewEmail) -> None:
    email, changed = new_email("kbd"), new_email("kbd.new")
    device = with_totp(live, email)
    sign_in_with_totp(page, email, device.code())
    focused = lambda: page.evaluate(FOCUSED)  # noqa: E731 - a one-line probe reads best here
    press = page.keyboard.press

    page.get_by_label("New email address").focus()
    page.keyboard.type(changed)
    press("Enter")
    expect(dialog(page)).to_be_visible()
    assert focused() == "confirm-code"  # the method this browser signed in with

    tab_order = []
    for _ in range(4):
        press("Tab")
        tab_order.append(focused())
    assert tab_order == ["Use another method", "Cancel", "Confirm", "confirm-code"]
    press("Shift+Tab")
    assert focused() == "Confirm"  # Shift+Tab wraps inside the dialog

    press("Tab")
    press("Tab")
    assert focused() == "Use another method"
    press("Enter")
    assert focused() == "radio totp (checked)"
    press("Shift+Tab")
    assert focused() == "Confirm"  # the trap holds from the radios too
    press("Tab")
    assert focused() == "radio totp (checked)"  # Tab lands on the selected radio only

    press("ArrowUp")
    assert focused() == "radio password (checked)"  # arrows change the method, focus stays
    expect(dialog(page).get_by_label("Your password")).to_be_visible()
    press("Tab")
    assert focused() == "confirm-password"
    page.keyboard.type("not my password")
    press("Enter")
    expect(dialog(page).get_by_role("alert")).to_have_text("Invalid credentials")
    assert focused() == "confirm-password"
    expect(dialog(page).get_by_label("Your password")).to_have_attribute("aria-invalid", "true")

    page.keyboard.type(PASSWORD)
    press("Enter")
    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#current-email")).to_have_text(changed)
    expect(page.get_by_label("New email address")).to_be_focused()  # back where it started
