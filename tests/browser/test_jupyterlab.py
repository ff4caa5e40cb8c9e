"""JupyterLab as a student uses it: ``make lab`` (in a scratch copy of the kit), Debian's
Chromium, and nothing but the browser. The lab opens at the kit's root with notebook 00, the
Terminal has ``stepup``; notebook 01 runs, an edit typed and saved in the lab's editor changes
its check table; ✓ and ✗ are readable in the light and the dark theme; tables fit the page.

Every wait is for a state, with a deadline far above what a busy machine needs."""

import re
import time
from collections.abc import Callable, Iterator

import pytest
from make_lab import RunningLab, make_lab, scratch_kit
from playwright.sync_api import Browser, Locator, Page, expect

from course_kit.notebook.walk import WIDTH_PX

pytestmark = pytest.mark.browser

WINDOW = {"width": 1280, "height": 800}
CELLS_SECONDS = 300  # a whole notebook, its check included, on a loaded two-core machine
UI = 120_000  # ms: a tab, a menu, a theme or the Terminal, on the same machine
MIN_CONTRAST = 3.0  # WCAG 2.1, 1.4.11: marks that carry meaning
QUIETED = ("without encryption", "websocket_ping_timeout")  # what the kit's settings silence


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    kit = scratch_kit(tmp_path_factory.mktemp("kit"))
    with make_lab(kit, tmp_path_factory.mktemp("jupyter")) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile at a laptop's window size (this module's page: no app server)."""
    context = browser.new_context(viewport=WINDOW)
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    context.close()


def menu(page: Page, path: str, command: str, text: str | None = None) -> None:
    """Follow ``path`` ("File > New") from the menu bar, then click the item that runs
    ``command`` (JupyterLab's command id), the one saying ``text`` if several do."""
    title, *submenus = path.split(" > ")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{title}$")).click()
    for submenu in submenus:
        label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{submenu}$"))
        page.locator("li.lm-Menu-item[data-type='submenu']").filter(has=label).hover()
    item = page.locator(f"li.lm-Menu-item[data-command='{command}']")
    if text:
        label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(text)}$"))
        item = item.filter(has=label)
    item.click()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"after {seconds} s: {what}"
        time.sleep(0.2)


def current_tab(page: Page) -> Locator:
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")


def open_in_file_browser(page: Page, *names: str) -> None:
    """From the lab's root, double-click each name in turn: folders, then the file."""
    page.locator(".jp-BreadCrumbs-home").click()
    for name in names:
        text = page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$"))
        page.locator(".jp-DirListing-item").filter(has=text).dblclick()


def kernel_idle(page: Page) -> None:
    status = page.locator("#jp-main-statusbar").get_by_text("Python 3 (step-up lab) | Idle")
    expect(status).to_be_visible(timeout=CELLS_SECONDS * 1000)


def test_make_lab_opens_the_kit_with_notebook_00_and_stepup_in_the_terminal(
    jupyter: RunningLab, page: Page
) -> None:
    page.goto(jupyter.opened)  # what make lab asked the browser to open
    expect(current_tab(page)).to_have_text("00_start_here.ipynb", timeout=UI)
    kernel_idle(page)  # the notebook's kernel started and connected, without a dialog
    open_in_file_browser(page)
    for folder in ("exercises", "notebooks", "course_app"):  # the kit's root, not notebooks/
        name = re.compile(f"^{folder}$")
        expect(page.locator(".jp-DirListing-itemText", has_text=name)).to_be_visible(timeout=UI)
    notification = "/lab/api/settings/@jupyterlab/apputils-extension:notification"
    defaults = page.request.get(jupyter.address(notification)).json()["schema"]["properties"]
    news, updates = defaults["fetchNews"]["default"], defaults["checkForUpdates"]["default"]
    assert (news, updates) == ("false", False), "the kit's setting overrides were not read"
    menu(page, "File > New", "terminal:create-new")
    terminal = page.locator(".jp-Terminal:visible .xterm-accessibility-tree")
    expect(terminal).to_contain_text(re.compile("[$#]"), timeout=UI)  # the shell's prompt
    page.locator(".jp-Terminal:visible .xterm").click()
    page.keyboard.type("stepup hint ex01\n")
    expect(terminal).to_contain_text("ex01 — Step-up on email change", timeout=UI)
    expect(terminal).not_to_contain_text("command not found")
    expect(page.locator(".jp-Notification-Toast", has_text="news")).to_have_count(0)
    log = jupyter.log.read_text(errors="replace")
    assert [q for q in QUIETED if q in log] == [], log[-3000:]


def test_an_edit_saved_in_the_lab_editor_changes_the_check_table(
    jupyter: RunningLab, page: Page
) -> None:
    page.goto(jupyter.address("/lab/tree/notebooks/01_email_change.ipynb"))
    expect(current_tab(page)).to_have_text("01_email_change.ipynb", timeout=UI)
    kernel_idle(page)
    menu(page, "Run", "runmenu:run-all")
    table = page.locator("table.stepup-check")
    expect(table).to_have_attribute("data-passed", "0", timeout=CELLS_SECONDS * 1000)
    kernel_idle(page)
    tables_fit_and_say_when_empty(page)
    marks_are_readable(page)
    assert page.locator(".jp-OutputArea-output").first.bounding_box()["width"] >= WIDTH_PX

    open_in_file_browser(page, "exercises", "ex01_email_change.py")
    expect(current_tab(page)).to_have_text("ex01_email_change.py", timeout=UI)
    page.locator(".jp-FileEditor .cm-line", has_text="TODO(task 1)").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("_: RecentAuth,")
    page.keyboard.press("Control+s")
    saved = jupyter.kit / "exercises" / "ex01_email_change.py"
    edited = re.compile(r"# TODO\(task 1\).*\n\s+_: RecentAuth,\n")
    wait_until(lambda: bool(edited.search(saved.read_text())), 60, "the edit was not saved")

    page.locator(".lm-TabBar-tab", has_text="01_email_change.ipynb").click()
    check = page.locator(".jp-CodeCell", has_text='nb.check("ex01")')
    check.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(table).to_have_attribute("data-passed", "1", timeout=CELLS_SECONDS * 1000)
    expect(table.locator("tr").nth(1).locator("td").nth(2)).to_have_text("✓")


def tables_fit_and_say_when_empty(page: Page) -> None:
    """The thief's inbox holds a long reset link: it wraps inside the output instead of running
    off its edge. Erin's new inbox is empty with the stub, and says so."""
    thief = page.locator(".jp-OutputArea-output", has_text="Inbox of thief@evil.example")
    box, inbox = thief.bounding_box(), thief.locator("table").bounding_box()
    assert box and inbox and inbox["x"] + inbox["width"] <= box["x"] + box["width"] + 1
    erin = page.locator(".jp-OutputArea-output", has_text="Inbox of erin@new.example")
    expect(erin).to_contain_text("empty: no mail was sent to this address", timeout=UI)


def marks_are_readable(page: Page) -> None:
    """✓ and ✗ against the cell's background, in the light theme, then in the dark one."""
    body = page.locator("body")
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        if body.get_attribute("data-jp-theme-name") != theme:
            menu(page, "Settings > Theme", "apputils:change-theme", theme)
        expect(body).to_have_attribute("data-jp-theme-name", theme, timeout=UI)
        for mark in ("✓", "✗"):
            cell = page.locator("td", has_text=re.compile(f"^{mark}$")).first
            ratio = contrast(*cell.evaluate(COLORS))
            assert ratio >= MIN_CONTRAST, f"{mark} in {theme}: {ratio:.2f}:1"
    menu(page, "Settings > Theme", "apputils:change-theme", "JupyterLab Light")


# The text colour of an element and the first opaque background behind it, as [r, g, b].
COLORS = """(cell) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  let node = cell, back = null;
  while (node && !back) {
    const c = getComputedStyle(node).backgroundColor;
    if (rgb(c).length === 3 || rgb(c)[3] === 1) back = rgb(c).slice(0, 3);
    node = node.parentElement;
  }
  return [rgb(getComputedStyle(cell).color).slice(0, 3), back || [255, 255, 255]];
}"""


def contrast(text: list[float], back: list[float]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""

    def luminance(rgb: list[float]) -> float:
        linear = [
            c / 255 / 12.92 if c <= 10.31 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(text), luminance(back)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_says() -> None:
    assert round(contrast([0, 0, 0], [255, 255, 255]), 1) == 21.0
    assert round(contrast([0x38, 0x8E, 0x3C], [255, 255, 255]), 2) == 4.12
