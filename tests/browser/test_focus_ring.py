"""The focus ring, measured in pixels (WCAG 2.4.7, 1.4.11; the method of 2.4.13): each
control is photographed without and with keyboard focus, in light and dark mode, and the
pixels that the focus changed by at least 3:1 (the ring against the colours it covers, its
neighbours) must add up to at least a 1 CSS px line around the control."""

import io
from collections.abc import Callable

import numpy as np
import pytest
from browser_helpers import change_email, dialog, sign_in_with_totp, with_totp
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

MARGIN = 8  # CSS px around the control: the ring lies 2 px out and is 2 px wide


def luminance(png: bytes) -> np.ndarray:
    """WCAG relative luminance of every pixel of a screenshot."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def ring(page: Page, control: Locator) -> tuple[int, int, float]:
    """(pixels changed by >= 3:1, pixels a 1 px line around the control needs, their median
    contrast) for keyboard focus on ``control``."""
    page.evaluate("document.activeElement?.blur()")
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box is not None, f"{control} is not shown"
    clip = {
        "x": box["x"] - MARGIN,
        "y": box["y"] - MARGIN,
        "width": box["width"] + 2 * MARGIN,
        "height": box["height"] + 2 * MARGIN,
    }
    before = luminance(page.screenshot(clip=clip, animations="disabled"))
    page.keyboard.press("Shift")  # the last input was a key: focus() now shows :focus-visible
    control.focus()
    assert control.evaluate("(el) => el.matches(':focus-visible')"), control
    after = luminance(page.screenshot(clip=clip, animations="disabled"))
    ratio = (np.maximum(before, after) + 0.05) / (np.minimum(before, after) + 0.05)
    strong = ratio[ratio >= 3]
    needed = round(2 * (box["width"] + box["height"]))
    return strong.size, needed, float(np.median(strong)) if strong.size else 1.0


def assert_rings(page: Page, controls: dict[str, Locator], found: dict[str, float]) -> None:
    weak = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        for name, control in controls.items():
            pixels, needed, median = ring(page, control)
            found[f"{scheme}: {name}"] = round(median, 2)
            if pixels < needed:
                weak.append(f"{scheme}: {name}: {pixels} px at 3:1, needs {needed}")
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")
    assert not weak, weak


def test_the_focus_ring_stands_out_in_both_themes(
    page: Page, live: Lab, new_email: Callable[[str], str]
) -> None:
    email = new_email("ring")
    device = with_totp(live, email)  # three methods: the dialog shows its radios
    sign_in_with_totp(page, email, device.code())
    page.get_by_label("New organization").fill("Ring Labs")
    page.get_by_role("button", name="Create organization").click()
    org = page.get_by_role("article", name="Ring Labs")
    expect(org.get_by_text("No API keys yet.")).to_be_visible()
    page.mouse.move(0, 0)
    found: dict[str, float] = {}
    assert_rings(
        page,
        {
            "primary button": page.get_by_role("button", name="Change email"),
            "secondary button": page.get_by_role("button", name="Create organization"),
            "danger button": page.get_by_role("button", name="Delete my account"),
            "checkbox": page.get_by_label("I understand this cannot be undone"),
            "text field": page.get_by_label("New email address"),
            "top bar button": page.get_by_role("button", name="Sign out"),
            "link on a tinted panel": org.get_by_role("link", name="Members of Ring Labs"),
            "primary button on a tinted panel": org.get_by_role("button", name="Create API key"),
        },
        found,
    )
    change_email(page, new_email("ring.new"))
    dialog(page).get_by_role("button", name="Use another method").click()
    page.locator("#confirm-methods").get_by_label("Password").check()
    assert_rings(
        page,
        {
            "radio": page.locator("#confirm-methods").get_by_label("Password"),
            "dialog field": dialog(page).get_by_label("Your password"),
            "dialog link button": dialog(page).get_by_role("link", name="Forgot password?"),
            "dialog cancel": dialog(page).get_by_role("button", name="Cancel"),
        },
        found,
    )
    assert min(found.values()) >= 3, found
