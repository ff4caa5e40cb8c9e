"""Cross-site request forgery: another site's form or fetch cannot act with our cookie."""

import pytest
from pydantic import ValidationError
from robustness_helpers import EVIL, FROM_EVIL, SAME_ORIGIN, as_form, browser_client

from course_app.csrf import normalize_origin
from course_app.settings import Settings
from course_kit.lab import ORIGIN, PASSWORD, Lab

ALICE = "alice@example.com"


@pytest.fixture
def alice(lab: Lab):
    """Alice in a browser, signed in and recently confirmed: the victim a forged request
    would need (a sensitive action would succeed if the request got through)."""
    lab.signup(ALICE, PASSWORD)
    client = browser_client(lab)
    assert client.post("/auth/login", json={"email": ALICE, "password": PASSWORD}).is_success
    assert client.post("/auth/confirm", json={"password": PASSWORD}).is_success
    return client


def assert_refused(r, status: int = 403, code: str = "cross_site") -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    assert isinstance(r.json()["error"], str), r.text


def test_a_cross_site_form_post_is_refused_and_changes_nothing(lab: Lab, alice) -> None:
    # <form action="http://localhost:8000/me/email" method="post"> on evil.example, auto-submitted.
    r = as_form(alice, "/auth/logout", {}, **FROM_EVIL)
    assert_refused(r)
    r = alice.request("PUT", "/me/email", data={"email": "mallory@evil.example"}, headers=FROM_EVIL)
    assert_refused(r)
    assert lab.user(ALICE) is not None
    assert alice.get("/me").json()["email"] == ALICE  # still signed in, address unchanged


def test_a_cross_origin_fetch_with_json_is_refused(lab: Lab, alice) -> None:
    # fetch(url, {method: "PUT", credentials: "include", body: JSON}) from evil.example.
    r = alice.put("/me/email", json={"email": "mallory@evil.example"}, headers=FROM_EVIL)
    assert_refused(r)
    r = alice.delete("/me", headers=FROM_EVIL)
    assert_refused(r)
    assert alice.get("/me").json()["email"] == ALICE


def test_the_same_requests_from_our_own_pages_work(lab: Lab, alice) -> None:
    r = alice.put("/me/email", json={"email": "alice@new.example"}, headers=SAME_ORIGIN)
    assert r.status_code == 200, r.text
    r = alice.post("/auth/logout", headers=SAME_ORIGIN)
    assert r.status_code == 204, r.text


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://localhost:9000", "sec-fetch-site": "same-site"},  # a sibling port
        {"origin": "https://localhost:8000", "sec-fetch-site": "cross-site"},  # other scheme
        {"origin": "null", "sec-fetch-site": "cross-site"},  # sandboxed frame, data: URL
        {"origin": "http://localhost:8000.evil.example"},
        {"origin": "http://localhost:8000/"},  # a path is not an origin
        {"origin": ORIGIN, "sec-fetch-site": "cross-site"},  # the browser's word wins
        {"sec-fetch-site": "same-site"},  # a browser that hid its Origin
        {"sec-fetch-site": "same-origin"},  # no browser sends this without Origin
    ],
    ids=["sibling-port", "https", "null", "suffix", "path", "fetch-site", "no-origin", "bare"],
)
def test_other_origins_are_refused_on_every_unsafe_method(
    lab: Lab, headers: dict[str, str]
) -> None:
    client = lab.client()
    client.headers.pop("origin")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = client.request(method, "/auth/login", json={"email": ALICE}, headers=headers)
        assert_refused(r)


def test_reads_are_not_checked(lab: Lab, alice) -> None:
    r = alice.get("/me", headers=FROM_EVIL)
    assert r.status_code == 200, r.text  # a page cannot read it anyway (no CORS headers)
    assert "access-control-allow-origin" not in r.headers


def test_clients_that_are_no_browser_need_no_origin(lab: Lab) -> None:
    """curl and scripts send neither header; no browser can be made to send such a request."""
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    client.headers.pop("origin")
    r = client.post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/xml",
        "",
    ],
)
def test_json_routes_take_json_only(lab: Lab, content_type: str) -> None:
    """Same origin or not: a body a form (or ``text/plain``) could send is refused with 415,
    even when it holds valid JSON."""
    lab.signup(ALICE, PASSWORD)
    client = browser_client(lab)
    body = f'{{"email": "{ALICE}", "password": "{PASSWORD}"}}'
    r = client.post("/auth/login", content=body, headers={"content-type": content_type})
    assert_refused(r, 415, "unsupported_media_type")
    assert client.get("/me").status_code == 401  # not signed in


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"]
)
def test_json_in_any_spelling_is_accepted(lab: Lab, content_type: str) -> None:
    lab.signup(ALICE, PASSWORD)
    client = browser_client(lab)
    body = f'{{"email": "{ALICE}", "password": "{PASSWORD}"}}'
    r = client.post("/auth/login", content=body, headers={"content-type": content_type})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:8000", "http://localhost:8000"),
        ("HTTP://LocalHost:8000", "http://localhost:8000"),
        ("https://example.com:443", "https://example.com"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        (EVIL, EVIL),
        ("null", None),
        ("file://", None),
        ("http://localhost:99999", None),
        ("http://localhost:8000/path", None),
    ],
)
def test_origins_are_compared_in_one_spelling(value: str, expected: str | None) -> None:
    assert normalize_origin(value) == expected


@pytest.mark.parametrize("origin", ["localhost:8000", "http://localhost:8000/app", "null"])
def test_a_broken_origin_setting_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError, match="not an http"):
        Settings(origin=origin)
