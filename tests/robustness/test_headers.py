"""Security headers on every answer, and pages that a strict CSP does not break."""

from html.parser import HTMLParser

import pytest
from robustness_helpers import FROM_EVIL

from course_app.headers import PAGE_POLICY
from course_kit.lab import PASSWORD, Lab

ALICE = "alice@example.com"
JSON = {"content-type": "application/json"}
PAGES = ["/signin", "/signup", "/forgot-password", "/reset-password?token=x", "/dev/mailbox"]


def assert_protected(r, policy: str = PAGE_POLICY) -> None:
    assert r.headers["content-security-policy"] == policy, r.headers
    assert r.headers["x-content-type-options"] == "nosniff", r.headers
    assert r.headers["x-frame-options"] == "DENY", r.headers
    assert r.headers["referrer-policy"] == "no-referrer", r.headers


def test_the_page_policy_bans_inline_code_and_framing() -> None:
    rules = dict(rule.split(" ", 1) for rule in PAGE_POLICY.split("; "))
    assert rules["script-src"] == "'self'"
    assert rules["style-src"] == "'self'"
    assert rules["frame-ancestors"] == "'none'"
    assert rules["object-src"] == "'none'"
    assert "unsafe" not in PAGE_POLICY


@pytest.mark.parametrize("path", PAGES)
def test_pages_get_the_headers(lab: Lab, path: str) -> None:
    r = lab.client().get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert_protected(r)
    assert r.headers["cache-control"] == "no-store"


def test_json_answers_and_errors_get_them_too(lab: Lab) -> None:
    client = lab.person(ALICE, PASSWORD)
    answers = {
        "ok": client.get("/me"),
        "401": lab.client().get("/me"),
        "403 reauth": client.delete("/me"),
        "403 cross-site": client.post("/auth/logout", headers=FROM_EVIL),
        "404": client.get("/no-such-page"),
        "405": client.patch("/me", json={}),
        "413": client.post("/orgs", content=b"x" * 200_000, headers=JSON),
        "415": client.post("/orgs", content=b"name=x", headers={"content-type": "text/plain"}),
        "422": client.post("/orgs", json={}),
    }
    for name, r in answers.items():
        assert name.startswith(str(r.status_code)) or r.is_success, f"{name}: {r.text}"
        assert r.headers["content-type"] == "application/json", name
        assert_protected(r)
        assert r.headers["cache-control"] == "no-store", name


def test_static_files_are_cacheable_but_not_sniffed(lab: Lab) -> None:
    for path in ("/static/api.js", "/static/app.css"):
        r = lab.client().get(path)
        assert r.status_code == 200, path
        assert_protected(r)
        assert "cache-control" not in r.headers


def test_the_api_explorer_gets_its_own_looser_policy(lab: Lab) -> None:
    r = lab.client().get("/docs")
    assert r.status_code == 200, r.text
    policy = r.headers["content-security-policy"]
    assert "'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy


class InlineCode(HTMLParser):
    """Collects whatever a CSP without ``'unsafe-inline'`` would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            self.in_script = True
            if "src" not in names:
                self.found.append("<script> without src")
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        self.found += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.found.append("inline script text")


def test_no_page_needs_inline_script_or_style(lab: Lab) -> None:
    """What the CSP would break, read from the HTML the server sends (the browser tests run
    the same pages under the same header)."""
    signed_in = lab.person(ALICE, PASSWORD)
    pages = [(lab.client(), path) for path in PAGES] + [(signed_in, "/account")]
    for client, path in pages:
        r = client.get(path)
        assert r.status_code == 200, f"{path}: {r.status_code}"
        parser = InlineCode()
        parser.feed(r.text)
        assert parser.found == [], f"{path}: {parser.found}"
