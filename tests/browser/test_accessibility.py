"""axe-core (through axe-playwright-python) on every page and state (page_states.py), in
light and dark mode, on 320, 375 and 1280 px screens and at 200 % zoom: no violation of any
impact."""

from collections.abc import Callable

import pytest
from browser_helpers import OpenPage, axe_violations
from page_states import page_states

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

SCREENS = {
    "320 px": (320, 640, 1),
    "375 px": (375, 667, 1),
    "1280 px": (1280, 800, 1),
    "1280 px at 200 %": (
        640,
        400,
        2,
    ),  # the same window zoomed: half the CSS pixels, twice as sharp
}


@pytest.mark.parametrize("screen", SCREENS)
def test_no_accessibility_violations(
    open_page: OpenPage, live: Lab, new_email: Callable[[str], str], screen: str
) -> None:
    page = open_page(*SCREENS[screen])
    found = {}
    for state in page_states(page, live, new_email):
        found[state] = axe_violations(page)
    assert not any(found.values()), {state: v for state, v in found.items() if v}
