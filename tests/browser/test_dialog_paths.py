"""Every way a sensitive action can go, and the state each one ends in: cancelling while the
server checks, a server that cannot be reached and then can, an error page from a proxy, a
request that never gets an answer, a window that closes on the way, a second action while
one is pending, and a tab that closes while a change is on its way. Each ends in words that
say whether the action happened, and the next action works."""

from collections.abc import Callable

import pytest
from browser_helpers import (
    change_email,
    confirm_with_password,
    dialog,
    dialog_opens,
    expire_window,
    hold,
    signed_in,
    until,
)
from playwright.sync_api import Dialog, Page, Request, Route, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]
EMAIL_STATUS = "#email-card [data-status]"
UNREACHABLE = "Could not reach the server. Check your connection, then try again."


def test_escape_while_checking_leaves_no_dead_dialog(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    """The answer to a cancelled check arrives while the next dialog is open: it opened the
    window, so that dialog has nothing left to ask, and every later action still works."""
    email, changed = new_email("esc"), new_email("esc.new")
    live.person(email)
    signed_in(page, email)
    held = hold(page, "**/auth/confirm")

    change_email(page, changed)
    confirm_with_password(page)
    expect(dialog(page).locator("#confirm-submit")).to_have_text("Checking…")
    expect(page.locator("#confirm-progress")).to_have_text("Checking…")  # announced
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    expect(page.locator(EMAIL_STATUS)).to_have_text("Cancelled: nothing was changed.")

    page.get_by_role("button", name="Change email").click()  # the same action again
    expect(dialog(page)).to_be_visible()
    until(page, lambda: len(held) == 1, "the first check to be held")
    held[0].continue_()  # the server confirms the check that was cancelled
    page.unroute("**/auth/confirm")

    expect(dialog(page)).to_be_hidden()
    expect(page.locator(EMAIL_STATUS)).to_have_text("Email updated. Verify your new email address.")
    assert live.user(changed) is not None
    expect(page.locator("#window-status")).to_contain_text("Identity confirmed")

    expire_window(live, changed)  # and after the window, the dialog asks and works again
    change_email(page, email)
    confirm_with_password(page)
    expect(page.locator("#current-email")).to_have_text(email)
    assert dialog_opens(page) == 3


def test_a_server_out_of_reach_then_back(page: Page, live: Lab, new_email: NewEmail) -> None:
    """The check cannot reach the server: the dialog says so and keeps the password; the
    server is back: Confirm works. The retried action cannot reach it: the page says the
    identity is confirmed but nobody knows whether the change was made, and offers a retry."""
    email, changed = new_email("net"), new_email("net.new")
    live.person(email)
    signed_in(page, email)

    page.route("**/auth/confirm", lambda route: route.abort("connectionrefused"))
    change_email(page, changed)
    confirm_with_password(page)
    expect(dialog(page).get_by_role("alert")).to_have_text(UNREACHABLE)
    expect(dialog(page).get_by_label("Your password")).not_to_have_value("")
    expect(dialog(page).get_by_label("Your password")).to_be_focused()
    expect(dialog(page).locator("#confirm-submit")).to_have_attribute("aria-disabled", "false")
    page.unroute("**/auth/confirm")

    puts: list[Request] = []
    page.route("**/me/email", lambda route: route.abort("connectionrefused"))
    page.on("request", lambda r: puts.append(r) if r.url.endswith("/me/email") else None)
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(dialog(page)).to_be_hidden()
    expect(page.locator(EMAIL_STATUS)).to_have_text(
        "Your identity is confirmed, but we could not reach the server, so we don't know"
        " whether the request to change your email address went through."
    )
    expect(page.locator("#window-status")).to_contain_text("Identity confirmed")
    assert live.user(changed) is None

    page.unroute("**/me/email")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator(EMAIL_STATUS)).to_have_text("Email updated. Verify your new email address.")
    expect(page.get_by_role("button", name="Try again")).to_have_count(0)
    assert live.user(changed) is not None
    assert len(puts) == 2  # after the dialog: the retry that failed, the one that went through
    assert dialog_opens(page) == 1


def test_error_pages_and_5xx_answers_are_named_not_shown(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("proxy"), new_email("proxy.new")
    live.person(email)
    signed_in(page, email)
    broken = {"status": 503, "content_type": "application/json", "body": '{"error": "oops"}'}
    page.route("**/auth/confirm", lambda route: route.fulfill(**broken))
    change_email(page, changed)
    confirm_with_password(page)
    expect(dialog(page).get_by_role("alert")).to_have_text(
        "The server had a problem and could not check this. Try again in a moment."
    )
    page.unroute("**/auth/confirm")

    bad_gateway = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    page.route(
        "**/me/email",
        lambda route: route.fulfill(status=502, content_type="text/html", body=bad_gateway),
    )
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(page.locator(EMAIL_STATUS)).to_have_text(
        "Your identity is confirmed, but the server had a problem (HTTP 502), so we don't know"
        " whether the request to change your email address went through."
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    page.unroute("**/me/email")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#current-email")).to_have_text(changed)


def test_a_request_that_never_answers_ends_in_words(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    """No answer within 30 s (on the page's clock, moved by the test, not waited for)."""
    email, changed = new_email("slow"), new_email("slow.new")
    live.person(email)
    page.clock.install()
    signed_in(page, email)
    held = hold(page, "**/me/email")
    change_email(page, changed)
    expect(page.locator(EMAIL_STATUS)).to_have_text("Changing your email address…")
    until(page, lambda: len(held) == 1, "the change to be on its way")
    page.clock.run_for(30_000)
    expect(page.locator(EMAIL_STATUS)).to_have_text(
        "The server did not answer in time, so we don't know whether the request to change"
        " your email address went through."
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    page.unroute_all(behavior="ignoreErrors")


def test_the_window_closes_while_the_retry_is_on_its_way(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    """Confirmed, yet the retry arrives after the window: refused, nothing changed, and a
    second try asks again."""
    email, changed = new_email("late"), new_email("late.new")
    live.person(email)
    signed_in(page, email)
    puts = 0

    def late(route: Route) -> None:
        nonlocal puts
        puts += 1
        if puts == 2:  # the retry after the confirmation
            expire_window(live, email)
        route.continue_()

    page.route("**/me/email", late)
    change_email(page, changed)
    confirm_with_password(page)
    expect(page.locator(EMAIL_STATUS)).to_have_text(
        "The confirmation ran out before the request arrived. Nothing was changed."
    )
    assert live.user(changed) is None
    page.get_by_role("button", name="Try again").click()
    confirm_with_password(page)
    expect(page.locator("#current-email")).to_have_text(changed)
    assert dialog_opens(page) == 2


def test_a_second_action_while_one_is_pending(page: Page, live: Lab, new_email: NewEmail) -> None:
    """A double click sends one request. Two actions meet the 403 together: one dialog
    names both, one confirmation, both applied."""
    email, changed = new_email("two"), new_email("two.new")
    live.person(email)
    signed_in(page, email)

    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith("/orgs") else None)
    page.get_by_label("New organization").fill("Twice Labs")
    page.get_by_role("button", name="Create organization").dblclick()
    expect(page.locator("#orgs-card [data-status]")).to_have_text(
        'Organization "Twice Labs" created.'
    )
    assert [r.method for r in posts].count("POST") == 1
    assert live.query("SELECT COUNT(*) FROM orgs WHERE name = 'Twice Labs'")[0][0] == 1

    held = hold(page, "**/me/email")
    change_email(page, changed)
    until(page, lambda: len(held) == 1, "the email change to be on its way")
    page.get_by_label("New password").fill("another good password")
    page.get_by_role("button", name="Change password").click()
    expect(dialog(page)).to_contain_text("To change your password, confirm it's you.")
    held[0].continue_()
    page.unroute("**/me/email")
    expect(dialog(page)).to_contain_text(
        "To change your password and change your email address, confirm it's you."
    )
    confirm_with_password(page)
    expect(page.locator("#password-card [data-status]")).to_contain_text("Password changed")
    expect(page.locator("#current-email")).to_have_text(changed)
    assert dialog_opens(page) == 1


def test_closing_the_tab_while_a_change_is_on_its_way(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    """The browser asks before the tab closes on a change in flight; kept open, the change
    ends as usual. With only the dialog open (nothing sent), the tab closes without a
    question, and nothing happened."""
    email, changed = new_email("close"), new_email("close.new")
    live.person(email)
    signed_in(page, email)
    asked: list[str] = []

    def stay(question: Dialog) -> None:
        asked.append(question.type)
        question.dismiss()

    page.on("dialog", stay)
    held = hold(page, "**/me/email")
    change_email(page, changed)
    until(page, lambda: len(held) == 1, "the change to be on its way")
    page.close(run_before_unload=True)
    until(page, lambda: asked == ["beforeunload"], "the browser to ask")
    assert not page.is_closed()
    held[0].continue_()
    page.unroute("**/me/email")
    expect(dialog(page)).to_be_visible()  # the server asked for a confirmation, as usual
    confirm_with_password(page)
    expect(page.locator("#current-email")).to_have_text(changed)

    expire_window(live, changed)
    change_email(page, new_email("close.never"))
    expect(dialog(page)).to_be_visible()
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    assert asked == ["beforeunload"]  # a dialog open, nothing in flight: no second question
    assert live.user(changed) is not None  # and nothing was changed


def test_a_confirmation_in_another_tab_answers_the_waiting_dialog(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    email, changed = new_email("tabs"), new_email("tabs.new")
    live.person(email)
    signed_in(page, email)
    change_email(page, changed)
    expect(dialog(page)).to_be_visible()

    other = page.context.new_page()
    other.goto("/account")
    other.get_by_label("New password").fill("another good password")
    other.get_by_role("button", name="Change password").click()
    confirm_with_password(other)
    expect(other.locator("#password-card [data-status]")).to_contain_text("Password changed")

    expect(dialog(page)).to_be_hidden()  # the session is confirmed: nothing left to ask here
    expect(page.locator("#current-email")).to_have_text(changed)
    assert dialog_opens(page) == 1
