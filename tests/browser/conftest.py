"""The browser tests' world: the reference app under a real uvicorn server (a background
thread, a free port, opened as http://localhost:PORT so rp_id "localhost" is valid) and
Debian's headless Chromium driven by Playwright. One server and one browser per run; every
test gets a fresh browser context (no cookies) and makes its own people."""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_helpers import COUNT_DIALOGS, OpenPage
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from course_kit.lab import Lab, live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: the browser tests need Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (.ci/run installs it)")
        pytest.skip(f"{reason} (apt-get install chromium)")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The app on a real uvicorn. ``Lab`` helpers (people, mail, SQL) work on the same file."""
    with live_server(tmp_path_factory.mktemp("live")) as (lab, _):
        yield lab


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, live: Lab) -> Iterator[OpenPage]:
    """``open_page(width, height, scale=1)``: a page in a fresh browser profile with that
    viewport (CSS px) and device scale (2 for a 1280 px window zoomed to 200 %: a 640 px
    viewport). A JavaScript error anywhere fails the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_one(width: int, height: int, scale: float = 1) -> Page:
        context = browser.new_context(
            base_url=live.settings.origin,
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.add_init_script(COUNT_DIALOGS)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A fresh browser profile on a desktop-sized screen."""
    return open_page(1100, 900)


_emails = itertools.count(1)


@pytest.fixture
def new_email() -> Callable[[str], str]:
    """``new_email("alice")`` → a never-used address, so tests share the server safely."""
    return lambda name: f"{name}{next(_emails)}@example.com"
