"""Helpers for the browser tests (imported by name: pytest puts this folder on ``sys.path``)."""

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, Route, expect

from course_app.clock import to_iso, utcnow
from course_app.security.totp import code_at
from course_kit.lab import Lab

PASSWORD = "correct horse"
OpenPage = Callable[..., Page]  # the open_page fixture: open_page(width, height, scale=1)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"
# Counts the confirmation dialog's openings (added to every page before its own scripts).
COUNT_DIALOGS = """
window.__dialogOpens = 0;
document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog) return;
  new MutationObserver(() => { if (dialog.open) window.__dialogOpens += 1; })
    .observe(dialog, { attributes: true, attributeFilter: ["open"] });
});
"""


def arrived(page: Page, url: str) -> None:
    """The browser went to ``url`` by itself (a link, a script) and ran the page's scripts:
    a click before then meets a button with nothing behind it yet."""
    expect(page).to_have_url(url)
    page.wait_for_load_state("domcontentloaded")


def account_loaded(page: Page, email: str) -> None:
    """The account page of ``email``, its script run and its state loaded (the pill is
    filled from GET /me): a click before that would meet a form with no script behind it."""
    expect(page).to_have_url("/account")
    expect(page.locator("#nav-email")).to_have_text(email)
    expect(page.locator("#window-status")).not_to_be_empty()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in form: what a person does (the page then remembers "password")."""
    page.goto("/signin")
    form = page.locator("#password-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    account_loaded(page, email)


def signed_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """The same ``POST /auth/login``, sent by the browser context's own HTTP client (its
    cookie lands in the browser), then the account page: for tests about what comes after
    signing in, half a second quicker than the form."""
    r = page.request.post("/auth/login", data={"email": email, "password": password})
    assert r.status == 200, r.text()
    page.goto("/account")
    account_loaded(page, email)


def sign_in_with_totp(page: Page, email: str, code: str) -> None:
    """Password, then the authenticator code (this browser then remembers "totp")."""
    page.goto("/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("#second-factor-form").get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Verify and sign in").click()
    account_loaded(page, email)


def with_totp(lab: Lab, email: str) -> "TotpDevice":
    """An account with TOTP on (and so recovery codes): three ways to confirm."""
    client = lab.person(email)
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    device = TotpDevice(client.post("/me/2fa/setup").json()["secret"])
    r = client.post("/me/2fa/enable", json={"code": device.code()})
    assert r.status_code == 200, r.text
    assert client.post("/auth/logout").status_code == 204
    return device


def until(page: Page, condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Wait for a state the test process sees (a held request, a browser dialog): Playwright
    delivers its events while the page is asked something, so ask it, briefly, until then."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"waited {seconds} s for {what}")


def hold(page: Page, pattern: str) -> list[Route]:
    """Hold every request to ``pattern`` until the test lets it go (``route.continue_()``)."""
    held: list[Route] = []
    page.route(pattern, lambda route: held.append(route))
    return held


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Confirm your identity")


def change_email(page: Page, email: str) -> None:
    page.get_by_label("New email address").fill(email)
    page.get_by_role("button", name="Change email").click()


def confirm_with_password(page: Page, password: str = PASSWORD) -> None:
    dialog(page).get_by_label("Your password").fill(password)
    dialog(page).get_by_role("button", name="Confirm").click()


def dialog_opens(page: Page) -> int:
    return int(page.evaluate("window.__dialogOpens"))


def expire_window(lab: Lab, email: str) -> None:
    """Move the server's stamp 301 s into the past: the window has closed (no sleeping)."""
    user = lab.user(email)
    assert user is not None
    with lab.db() as conn:
        conn.execute(
            "UPDATE sessions SET confirmed_at = ? WHERE user_id = ?",
            (to_iso(utcnow() - timedelta(seconds=301)), user["id"]),
        )


def pill_says_confirmed(page: Page) -> None:
    """The countdown pill agrees with the server (GET /me) that the window is open."""
    expect(page.locator("#window-status")).to_contain_text("Identity confirmed")
    assert page.evaluate("fetch('/me').then((r) => r.json())")["reauth"]["recent"] is True


AXE_SCRIPT = Axe().axe_script  # axe-core, as shipped inside axe-playwright-python


def axe_violations(page: Page, context: str = "document") -> list[str]:
    """axe-core's findings of any impact on the page (or inside ``context``, a CSS selector),
    in light and in dark mode (``prefers-color-scheme``). ``page.evaluate`` is not subject
    to the page's CSP, so axe needs no exception in it."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    found = []
    for scheme in ("light", "dark"):
        # Reduced motion: no colour transition is caught half-way when the scheme flips.
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        where = context if context == "document" else repr(context)
        run = f"axe.run({where}, {{resultTypes: ['violations']}})"
        for v in page.evaluate(f"{run}.then((r) => r.violations)"):
            targets = [n["target"] for n in v["nodes"]][:3]
            found.append(f"{scheme}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")
    return found


def confirmed_method(lab: Lab, email: str) -> str | None:
    rows = lab.query(
        "SELECT s.confirmed_method FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE u.email = ? ORDER BY s.id DESC",
        email,
    )
    return rows[0][0] if rows else None


def screenshot(page: Page, name: str, full_page: bool = False, dark: bool = False) -> None:
    """For the docs, only when asked (STEPUP_SCREENSHOTS=1): normal runs leave the tree alone.
    ``dark``: in dark mode (``prefers-color-scheme: dark``), then back to light."""
    if os.environ.get("STEPUP_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if dark:
            page.emulate_media(color_scheme="dark", reduced_motion="reduce")
        page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
        if dark:
            page.emulate_media(color_scheme="light", reduced_motion="no-preference")


class TotpDevice:
    """An authenticator app: each code from a later timestep than the last one used (the
    server refuses a replayed step), never more than one step ahead of now."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.last_step: int | None = None

    def code(self) -> str:
        now = utcnow()
        current = int(now.timestamp()) // 30
        step = current - 1 if self.last_step is None else max(self.last_step + 1, current - 1)
        assert step <= current + 1, "codes used faster than the clock allows"
        self.last_step = step
        return code_at(self.secret, now + timedelta(seconds=30 * (step - current)))
