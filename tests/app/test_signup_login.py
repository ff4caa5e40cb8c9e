"""Sign-up, sign-in, sign-out and ``GET /me``."""

import unicodedata
from collections.abc import Callable

import pytest
from app_helpers import ALICE, PASSWORD, assert_signed_out, count, session_token, with_cookie

from course_kit.lab import Lab


def full_width(text: str) -> str:
    """Full-width forms (U+FF01..U+FF5E), as some East Asian keyboards type Latin letters."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def signup(lab: Lab, email: str, password: str = PASSWORD) -> tuple[int, dict]:
    r = lab.client().post("/auth/signup", json={"email": email, "password": password})
    return r.status_code, r.json()


def test_signup_creates_an_unverified_account_and_mails_a_link(lab: Lab) -> None:
    r = lab.client().post("/auth/signup", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == ALICE
    user = lab.user(ALICE)
    assert user is not None and user["email_verified"] == 0
    assert user["password_hash"].startswith("$2b$04$")  # bcrypt, test rounds
    [mail] = lab.mail(ALICE)
    assert mail["link"].startswith(f"{lab.settings.origin}/verify-email?token=")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Alice@Example.COM ", "Alice@example.com"),
        ("bob@EXAMPLE.org", "bob@example.org"),
        ("carol@example.com\n", "carol@example.com"),
    ],
)
def test_signup_trims_and_lowercases_the_domain(lab: Lab, typed: str, stored: str) -> None:
    status, body = signup(lab, typed)
    assert status == 201, body
    assert body["email"] == stored
    assert lab.query("SELECT email FROM users")[0]["email"] == stored
    assert lab.mail(stored)[0]["to_addr"] == stored


INVALID_EMAILS = ["", "   ", "alice", "alice@", "@example.com", "alice@@example.com"]
INVALID_EMAILS += ["alice@localhost", "a b@example.com", "x" * 250 + "@example.com"]


@pytest.mark.parametrize("email", INVALID_EMAILS)
def test_signup_refuses_an_invalid_address(lab: Lab, email: str) -> None:
    status, body = signup(lab, email)
    assert status == 400, body
    assert body["error"] == "A valid email address is required"
    assert count(lab, "users") == 0
    assert count(lab, "outbox") == 0


@pytest.mark.parametrize(
    "email", [ALICE, "ALICE@example.com", "Alice@EXAMPLE.COM", " alice@example.com"]
)
def test_signup_refuses_a_taken_address_whatever_its_case(lab: Lab, email: str) -> None:
    status, body = signup(lab, ALICE)
    assert status == 201, body
    status, body = signup(lab, email, "another password")
    assert status == 409, body
    assert body["error"] == "Email already in use"
    assert count(lab, "users") == 1
    assert count(lab, "outbox") == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 8 bytes"),
        ("1234567", "at least 8 bytes"),
        ("x" * 73, "at most 72 bytes"),
        ("é" * 36 + "x", "at most 72 bytes"),  # 36 two-byte letters + 1 = 73 bytes
        ("€" * 25, "at most 72 bytes"),  # 25 characters, 75 bytes
    ],
)
def test_signup_enforces_8_to_72_utf8_bytes(lab: Lab, password: str, message: str) -> None:
    status, body = signup(lab, ALICE, password)
    assert status == 400, body
    assert message in body["error"]
    assert body["code"] == "weak_password"
    assert count(lab, "users") == 0


@pytest.mark.parametrize(
    "password",
    [
        "k3x!9qzv",  # 8 bytes: the shortest allowed
        "x" * 72,  # 72 bytes: the longest allowed
        "é" * 36,  # 36 characters, 72 bytes
        "ﬀ" * 30,  # 90 bytes as typed, but NFKC turns each ligature into "ff": 60 bytes
    ],
)
def test_a_password_at_the_limits_signs_up_and_signs_in(lab: Lab, password: str) -> None:
    status, body = signup(lab, ALICE, password)
    assert status == 201, body
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": password})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("chosen", "typed"),
    [
        (full_width("Correct horse"), "Correct horse"),  # NFKC-equal to the ASCII
        ("café crème", unicodedata.normalize("NFD", "café crème")),  # composed vs decomposed
        ("пароль-密码-🔑", "пароль-密码-🔑"),
    ],
)
def test_non_ascii_passwords_sign_in_by_their_nfkc_form(lab: Lab, chosen: str, typed: str) -> None:
    status, body = signup(lab, ALICE, chosen)
    assert status == 201, body
    client = lab.client()
    r = client.post("/auth/login", json={"email": ALICE, "password": typed})
    assert r.status_code == 200, r.text
    r = client.post("/auth/login", json={"email": ALICE, "password": typed.upper() + "!"})
    assert r.status_code == 401, r.text


def test_login_sets_a_hardened_session_cookie(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD)
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["two_factor_required"] is False
    [cookie] = r.headers.get_list("set-cookie")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0].startswith("stepup_session=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http in dev; see the next test


def test_the_cookie_is_secure_when_the_setting_says_so(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(cookie_secure=True)
    lab.signup(ALICE, PASSWORD)
    r = lab.client().post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert "secure" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]


def test_unknown_email_and_wrong_password_get_the_same_answer(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    unknown = client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    wrong = client.post("/auth/login", json={"email": ALICE, "password": "wrong password"})
    assert unknown.status_code == 401, unknown.text
    assert wrong.status_code == 401, wrong.text
    assert unknown.json() == wrong.json()
    assert wrong.json()["error"] == "Invalid email or password"
    assert "set-cookie" not in wrong.headers
    assert count(lab, "sessions") == 0


@pytest.mark.parametrize(
    "password", ["x" * 73, "é" * 40, "", "ß" * 1000], ids=["73", "80-bytes", "empty", "2000-bytes"]
)
def test_impossible_passwords_are_a_401_not_a_500(lab: Lab, password: str) -> None:
    """bcrypt 5 raises on more than 72 bytes, in checkpw too."""
    lab.signup(ALICE, PASSWORD)
    for email in (ALICE, "nobody@example.com"):
        r = lab.client().post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "Invalid email or password"


def test_login_ignores_the_case_and_spaces_of_the_address(lab: Lab) -> None:
    lab.signup(ALICE, PASSWORD)
    r = lab.client().post(
        "/auth/login", json={"email": " ALICE@Example.com ", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text


def test_me_describes_the_user_and_the_session(lab: Lab) -> None:
    client = lab.person(ALICE, PASSWORD, verified=False)
    r = client.get("/me")
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["email"] == ALICE
    assert me["email_verified"] is False
    assert me["two_factor_enabled"] is False
    assert me["methods"] == ["password"]
    assert me["reauth"]["recent"] is False
    assert me["reauth"]["expires_at"] is None
    assert me["reauth"]["max_age"] == 300


def test_me_needs_a_session(lab: Lab) -> None:
    assert_signed_out(lab.client())


def test_logout_deletes_the_session_and_kills_the_cookie(lab: Lab, alice) -> None:
    token = session_token(alice)
    r = alice.post("/auth/logout")
    assert r.status_code == 204, r.text
    assert count(lab, "sessions") == 0
    assert_signed_out(alice)
    assert_signed_out(with_cookie(lab, token))  # a copy of the cookie is dead too


def test_logout_needs_a_session(lab: Lab) -> None:
    r = lab.client().post("/auth/logout")
    assert r.status_code == 401, r.text
