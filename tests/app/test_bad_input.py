"""Bad input gets a 4xx with a JSON ``error`` message, never a 500, and changes nothing."""

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest
from app_helpers import ALICE, BOB, PASSWORD, confirm, table_dump
from fastapi import FastAPI
from fastapi.testclient import TestClient

from course_kit.lab import Lab

# Every JSON route with a body that would get past validation (``{org}`` is Alice's org).
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/auth/signup"): {"email": "new@example.com", "password": PASSWORD},
    ("POST", "/auth/login"): {"email": ALICE, "password": PASSWORD},
    ("POST", "/auth/login/2fa"): {"code": "123456"},
    ("POST", "/auth/confirm"): {"password": PASSWORD},
    ("POST", "/auth/password-reset"): {"email": ALICE},
    ("POST", "/auth/password-reset/complete"): {"token": "t", "new_password": "new password"},
    ("PUT", "/me/password"): {"new_password": "new password"},
    ("PUT", "/me/email"): {"email": "new@example.com"},
    ("POST", "/me/2fa/enable"): {"code": "123456"},
    ("POST", "/me/2fa/disable"): {"code": "123456"},
    ("POST", "/orgs"): {"name": "Globex"},
    ("POST", "/orgs/{org}/members"): {"email": BOB, "role": "admin"},
    ("PUT", "/orgs/{org}/verified-domain"): {"domain": "acme.test"},
    ("POST", "/orgs/{org}/api-keys"): {"name": "ci"},
}
JSON = {"content-type": "application/json"}


def bad_requests(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Named ways to get a request wrong: httpx keyword arguments for each."""
    first = next(iter(body))
    cases = {
        "unknown field": {"json": body | {"is_admin": True}},
        "number for text": {"json": body | {first: 12345}},
        "object for text": {"json": body | {first: {"$ne": ""}}},
        "list for text": {"json": body | {first: [body[first]]}},
        "null for text": {"json": body | {first: None}},
        "text too long": {"json": body | {first: "x" * 5000}},
        "empty object": {"json": {}},
        "no body": {},
        "json null": {"content": "null", "headers": JSON},
        "json list": {"json": [body]},
        "json string": {"json": "hello"},
        "broken json": {"content": '{"email": ', "headers": JSON},
        "not utf-8": {"content": b'{"email": "\xff\xfe"}', "headers": JSON},
        "form body": {"data": {k: str(v) for k, v in body.items()}},
        "plain text": {"content": json.dumps(body), "headers": {"content-type": "text/plain"}},
        "deeply nested": {"content": "[" * 20000 + "]" * 20000, "headers": JSON},
        "one megabyte": {"content": b"x" * 1_000_000, "headers": JSON},
        "one megabyte of json": {"json": body | {first: "x" * 1_000_000}},
    }
    if first == "domain":
        del cases["null for text"]  # a null domain is how auto-join is switched off
    return cases


@pytest.fixture
def ready(lab: Lab, alice: TestClient, bob: TestClient) -> tuple[TestClient, int]:
    """Alice owns an org and has just confirmed, so every route reads its body."""
    org_id = lab.create_org(alice, "Acme")
    confirm(alice)
    return alice, org_id


@pytest.mark.parametrize(
    ("method", "path"), list(VALID_BODIES), ids=[f"{m} {p}" for m, p in VALID_BODIES]
)
def test_bad_bodies_are_refused_and_change_nothing(
    lab: Lab, ready: tuple[TestClient, int], method: str, path: str
) -> None:
    alice, org_id = ready
    url = path.format(org=org_id)
    before = table_dump(lab)
    for case, request in bad_requests(VALID_BODIES[method, path]).items():
        r = alice.request(method, url, **request)
        assert 400 <= r.status_code < 500, f"{case}: {r.status_code} {r.text}"
        assert isinstance(r.json().get("error"), str), f"{case}: {r.text}"
        if "megabyte" in case:
            assert r.status_code == 413, f"{case}: {r.text}"
        assert table_dump(lab) == before, f"{case} changed the database"


def test_the_messages_say_what_is_wrong(ready: tuple[TestClient, int]) -> None:
    alice, _ = ready
    cases = {
        "unknown field": (
            {"json": {"name": "x", "is_admin": True}},
            "is_admin: Extra inputs are not permitted",
        ),
        "wrong type": ({"json": {"name": 5}}, "name: Input should be a valid string"),
        "missing": ({"json": {}}, "name: Field required"),
        "broken json": ({"content": "{", "headers": JSON}, "the body is not valid JSON"),
        "too big": ({"content": b"x" * 70_000, "headers": JSON}, "Request body too large"),
    }
    for case, (request, message) in cases.items():
        r = alice.post("/orgs", **request)
        assert message in r.json()["error"], f"{case}: {r.text}"


def test_a_huge_body_is_refused_before_anything_else(lab: Lab) -> None:
    """No session, unknown route, GET: the size is checked first, and the answer is JSON."""
    client = lab.client()
    for method, path in (("POST", "/auth/login"), ("GET", "/me"), ("POST", "/nowhere")):
        r = client.request(method, path, content=b"{" * 1_000_000, headers=JSON)
        assert r.status_code == 413, r.text
        assert r.json() == {
            "error": "Request body too large (at most 65536 bytes)",
            "code": "body_too_large",
        }


def test_the_limit_is_max_body_bytes_exactly(lab: Lab) -> None:
    limit = lab.settings.max_body_bytes
    for size, status in ((limit, 422), (limit + 1, 413)):
        prefix = '{"email": "a@example.com", "password": "'
        body = prefix + "x" * (size - len(prefix) - 2) + '"}'
        assert len(body.encode()) == size
        r = lab.client().post("/auth/signup", content=body, headers=JSON)
        assert r.status_code == status, r.text


# The limit counts what streams in, whatever Content-Length says --------------------------------


def call_asgi(
    app: FastAPI, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, Any], int]:
    """POST /auth/login straight through ASGI, the body in ``chunks``. Returns the status,
    the JSON answer and how many chunks were never read."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/login",
        "raw_path": b"/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
    }
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), len(pending)


def test_a_chunked_body_is_counted_as_it_arrives(lab: Lab) -> None:
    status, body, unread = call_asgi(lab.app, [b"x" * 10_000] * 100, [])
    assert status == 413, body
    assert body["code"] == "body_too_large"
    assert unread > 80  # it stopped reading soon after the limit


def test_a_content_length_that_lies_does_not_help(lab: Lab) -> None:
    status, body, _ = call_asgi(lab.app, [b"x" * 10_000] * 10, [(b"content-length", b"10")])
    assert status == 413, body


def test_a_declared_length_over_the_limit_is_refused_unread(lab: Lab) -> None:
    status, body, unread = call_asgi(lab.app, [b"x"] * 5, [(b"content-length", b"1000000")])
    assert status == 413, body
    assert unread == 5


def test_small_chunks_are_put_back_together(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD)
    raw = json.dumps({"email": ALICE, "password": PASSWORD}).encode()
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    status, body, unread = call_asgi(lab.app, chunks, [(b"content-type", b"application/json")])
    assert status == 200, body
    assert unread == 0


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e6"])
def test_a_malformed_content_length_is_a_400(lab: Lab, value: bytes) -> None:
    status, body, _ = call_asgi(lab.app, [b"{}"], [(b"content-length", value)])
    assert status == 400, body
    assert "error" in body


# Ids and headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orgs/{huge}"),
        ("POST", "/orgs/{huge}/join"),
        ("DELETE", "/me/sessions/{huge}"),
        ("DELETE", "/orgs/{org}/api-keys/{huge}"),
        ("GET", "/orgs/-1"),
        ("GET", "/orgs/abc"),
        ("GET", "/orgs/1.5"),
        ("DELETE", "/me/sessions/0x10"),
    ],
)
def test_odd_ids_are_a_4xx(ready: tuple[TestClient, int], method: str, path: str) -> None:
    alice, org_id = ready
    r = alice.request(method, path.format(huge=2**64, org=org_id))
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


@pytest.mark.parametrize(
    "spelling",
    ["%C2%A0{org}", "%20{org}", "{org}%20", "+{org}", "{org}_", "{arabic}", "{fullwidth}"],
)
@pytest.mark.parametrize("path", ["/orgs/{id}", "/orgs/{id}/api-keys", "/orgs/{id}/members"])
def test_an_id_is_ascii_digits_only(
    ready: tuple[TestClient, int], path: str, spelling: str
) -> None:
    """int() reads " 5", "\\xa05" and Arabic-Indic 5 as 5: only "5" names org 5."""
    alice, org_id = ready
    assert alice.get(path.format(id=org_id)).status_code == 200
    digits = str(org_id)
    arabic = "".join(chr(0x660 + int(d)) for d in digits)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    odd = spelling.format(org=digits, arabic=quote(arabic), fullwidth=quote(fullwidth))
    r = alice.get(path.format(id=odd))
    assert r.status_code == 422, r.text
    assert "ASCII digits only" in r.json()["error"], r.text


def test_an_odd_authorization_header_is_a_401(lab: Lab) -> None:
    client = lab.client()
    for value in ("Bearer " + "k" * 10_000, "Bearer \t", "bearer sk_x sk_y", "Token abc"):
        r = client.get("/api/org", headers={"authorization": value})
        assert r.status_code == 401, r.text
        assert "error" in r.json()
