"""WCAG 1.4.10 and 1.4.12: no page or state (page_states.py) scrolls sideways or pushes text
out of the screen on a 320 CSS px screen, which is also a 1280 px window zoomed to 400 %,
with the page's own spacing and with the text spacing a reader may set."""

from collections.abc import Callable
from typing import Any

import pytest
from browser_helpers import OpenPage
from page_states import page_states
from probes import SIDEWAYS, TEXT_SPACING

from course_kit.lab import Lab

pytestmark = pytest.mark.browser


def sideways(page: Any) -> dict[str, Any] | None:
    seen = page.evaluate(SIDEWAYS)
    return seen if seen["scrollWidth"] > seen["width"] or seen["out"] else None


def test_nothing_scrolls_sideways_at_320_px_or_400_percent_zoom(
    open_page: OpenPage, live: Lab, new_email: Callable[[str], str]
) -> None:
    page = open_page(320, 200, 4)  # a 1280 x 800 window at 400 %
    found = {}
    for state in page_states(page, live, new_email):
        found[state] = sideways(page)
        assert page.evaluate(TEXT_SPACING) != "normal", "the text spacing did not apply"
        found[f"{state}, with text spacing"] = sideways(page)
    assert not any(found.values()), {state: v for state, v in found.items() if v}
