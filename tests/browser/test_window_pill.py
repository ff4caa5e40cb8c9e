"""The pill that says whether sensitive actions will ask: it counts the server's
``expires_in`` down on the page's own monotonic clock (a computer clock that is minutes off
changes nothing), and closes on the server's rule, tested on both sides of the boundary with
both clocks moved by the test: the server's (freezegun) and the page's (Playwright). Other
tabs follow a confirmation, a change and a sign-out; the wording counts right."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from browser_helpers import (
    change_email,
    confirm_with_password,
    dialog,
    dialog_opens,
    signed_in,
)
from freezegun.api import FrozenDateTimeFactory
from playwright.sync_api import Page, expect

from course_app.clock import utcnow
from course_kit.lab import PASSWORD, Lab
from course_kit.timetravel import frozen_clock

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]
CLOSED = "Sensitive actions will ask you to confirm"


@contextmanager
def server_clock() -> Iterator[FrozenDateTimeFactory]:
    """The live server's clock, frozen at now while the test moves it (as
    ``course_kit.timetravel.frozen_clock`` freezes it, its ignore list included)."""
    with frozen_clock(utcnow()) as clock:
        yield clock


def test_the_pill_closes_when_the_server_stops_accepting(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    """The server's rule: recent while now - confirmed_at <= 300 s. At 300 s the pill says
    0:00 and an action passes without a dialog; at 301 s the pill has closed and the next
    action asks."""
    email = new_email("tick")
    live.person(email)
    slow = datetime.now(UTC) - timedelta(minutes=2)  # this computer's clock is 2 minutes slow
    page.clock.install(time=slow)
    page.clock.pause_at(slow)  # the page's time moves only when the test moves it
    pill, heard = page.locator("#window-status"), page.locator("#window-announce")
    with server_clock() as server:
        signed_in(page, email)
        expect(pill).to_have_text(CLOSED)
        change_email(page, new_email("tick.a"))
        confirm_with_password(page)
        expect(dialog(page)).to_be_hidden()
        expect(pill).to_have_text("Identity confirmed · 5:00 left")
        expect(heard).to_have_text(
            "Identity confirmed. Sensitive actions won't ask again for about 5 minutes."
        )

        server.tick(300)
        page.clock.run_for(300_000)
        expect(pill).to_have_text("Identity confirmed · 0:00 left")
        last = new_email("tick.b")
        change_email(page, last)  # the server agrees: still inside, no dialog
        expect(page.locator("#current-email")).to_have_text(last)
        assert dialog_opens(page) == 1

        server.tick(1)
        page.clock.run_for(1_000)
        expect(pill).to_have_text(CLOSED)
        expect(heard).to_have_text(
            "The confirmation window has closed: sensitive actions will ask you to confirm again."
        )
        change_email(page, new_email("tick.c"))  # and the server asks again
        expect(dialog(page)).to_be_visible()
        assert dialog_opens(page) == 2


def test_counts_agree_with_their_nouns(page: Page) -> None:
    page.goto("/signin")
    said = page.evaluate(
        """import("/static/words.js").then((w) => [
          w.roughly(300), w.roughly(119), w.roughly(90), w.roughly(61), w.roughly(60),
          w.roughly(59), w.roughly(1), w.roughly(0), w.duration(300), w.duration(60),
          w.duration(90), w.plural(1, "attempt"), w.plural(2, "attempt"), w.plural(0, "member"),
        ])"""
    )
    assert said == [
        "about 5 minutes",
        "about 2 minutes",
        "about 2 minutes",
        "about 1 minute",
        "about 1 minute",
        "59 seconds",
        "1 second",
        "0 seconds",
        "5 minutes",
        "1 minute",
        "90 seconds",
        "1 attempt",
        "2 attempts",
        "0 members",
    ]


def test_other_tabs_follow_confirmations_changes_and_sign_outs(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed, later = new_email("tab"), new_email("tab.new"), new_email("tab.later")
    live.person(email)
    signed_in(page, email)
    other = page.context.new_page()
    other.goto("/account")

    change_email(other, changed)
    confirm_with_password(other)
    expect(other.locator("#current-email")).to_have_text(changed)
    expect(page.locator("#window-status")).to_contain_text("Identity confirmed")  # told
    expect(page.locator("#current-email")).to_have_text(changed)
    expect(page.locator("#nav-email")).to_have_text(changed)

    # Another device changes the address: this tab sees it when it is looked at again
    # (headless Chromium never moves the focus between tabs, so the test sends the event).
    device = live.client()
    live.login(device, changed, PASSWORD)
    assert live.confirm(device).status_code == 200
    assert device.put("/me/email", json={"email": later}).status_code == 200
    page.evaluate("window.dispatchEvent(new FocusEvent('focus'))")
    expect(page.locator("#current-email")).to_have_text(later)

    other.get_by_role("button", name="Sign out").click()
    expect(other).to_have_url("/signin?signed_out=1")
    expect(page).to_have_url("/signin?signed_out=1")  # it stops counting, and says why
    expect(page.locator("#signin-notice")).to_have_text("You're signed out.")
