"""Guessing limits: passwords per account and per client, codes per account, confirmations
per session — each limit, and what lifts it. Time moves with the frozen clock, never sleep."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_app.security.totp import code_at
from course_kit.lab import ORIGIN, PASSWORD, Lab

ALICE = "alice@example.com"
WRONG = "wrong password"
WINDOW = 900  # failure_window_seconds
PER_ACCOUNT = 5
PER_ACCOUNT_TOTAL = 50
PER_CLIENT = 30
CODES = 10


def from_address(lab: Lab, ip: str) -> TestClient:
    """A browser on another machine (the limits key on the client address)."""
    client = TestClient(lab.app, base_url=ORIGIN, headers={"origin": ORIGIN}, client=(ip, 1))
    lab.clients.append(client)
    return client


def login(client: TestClient, email: str, password: str):
    return client.post("/auth/login", json={"email": email, "password": password})


def assert_throttled(r, retry_after: int | None = None) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "rate_limited", r.text
    assert r.headers["retry-after"] == str(r.json()["retry_after"]), r.headers
    if retry_after is not None:
        assert r.json()["retry_after"] == retry_after, r.text


def fail_logins(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        r = login(client, email, WRONG)
        assert r.status_code == 401, r.text


# Passwords, per account ----------------------------------------------------------------------


def test_the_sixth_guess_is_refused_even_with_the_right_password(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    fail_logins(client, ALICE, PER_ACCOUNT)
    assert_throttled(login(client, ALICE, PASSWORD), retry_after=WINDOW)
    assert client.get("/me").status_code == 401

    clock.tick(WINDOW - 1)
    assert_throttled(login(client, ALICE, PASSWORD), retry_after=1)
    clock.tick(1)
    assert login(client, ALICE, PASSWORD).status_code == 200


def test_a_guesser_locks_the_account_for_itself_only(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Five wrong passwords lock that client out of that account; the owner, elsewhere,
    still signs in: a guesser cannot keep someone else locked out (issue 18)."""
    lab.signup(ALICE, PASSWORD)
    guesser = from_address(lab, "203.0.113.9")
    fail_logins(guesser, ALICE, PER_ACCOUNT)
    assert_throttled(login(guesser, ALICE, PASSWORD), retry_after=WINDOW)
    assert login(from_address(lab, "198.51.100.3"), ALICE, PASSWORD).status_code == 200


def test_the_account_limit_holds_whichever_machines_guess(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Guesses from many machines add up too, to a higher limit: ten machines' worth."""
    lab.signup(ALICE, PASSWORD)
    for n in range(PER_ACCOUNT_TOTAL // PER_ACCOUNT):
        fail_logins(from_address(lab, f"10.0.0.{n + 1}"), ALICE, PER_ACCOUNT)
    assert_throttled(login(from_address(lab, "10.0.1.1"), ALICE, PASSWORD))


def test_the_window_slides(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    fail_logins(client, ALICE, 3)
    clock.tick(600)
    fail_logins(client, ALICE, 2)
    # The fifth most recent failure (t=0) leaves the window at t=900.
    assert_throttled(login(client, ALICE, PASSWORD), retry_after=300)
    clock.tick(300)
    fail_logins(client, ALICE, 3)  # t=0 failures gone: room for three more
    # Now the fifth most recent is from t=600.
    assert_throttled(login(client, ALICE, PASSWORD), retry_after=600)


def test_a_right_password_clears_the_account_count(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    fail_logins(client, ALICE, PER_ACCOUNT - 1)
    assert login(client, ALICE, PASSWORD).status_code == 200
    fail_logins(client, ALICE, PER_ACCOUNT - 1)
    assert login(client, ALICE, PASSWORD).status_code == 200


def test_unknown_addresses_are_throttled_the_same_way(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Otherwise the limit itself would tell which addresses have accounts."""
    lab.signup(ALICE, PASSWORD)
    answers = {}
    for email in (ALICE, "nobody@example.com"):
        client = from_address(lab, f"10.1.0.{len(answers) + 1}")
        fail_logins(client, email, PER_ACCOUNT)
        r = login(client, email, WRONG)
        assert_throttled(r)
        answers[email] = (r.status_code, r.json(), r.headers["retry-after"])
    assert answers[ALICE] == answers["nobody@example.com"]


def test_the_account_key_is_the_normalised_address(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.signup(ALICE, PASSWORD)
    client = lab.client()
    for spelling in ("alice@example.com", "alice@EXAMPLE.com", " alice@Example.COM ", ALICE, ALICE):
        assert login(client, spelling, WRONG).status_code == 401
    assert_throttled(login(client, "Alice@example.com".lower(), PASSWORD))


# Passwords, per client ---------------------------------------------------------------------------


def test_one_client_guessing_many_accounts_is_stopped(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    lab.signup(ALICE, PASSWORD)
    guesser = from_address(lab, "203.0.113.7")
    for n in range(PER_CLIENT):
        assert login(guesser, f"user{n}@example.com", WRONG).status_code == 401
    assert_throttled(login(guesser, ALICE, PASSWORD), retry_after=WINDOW)
    # Alice, on her own machine, is not affected; her account had no failures.
    assert login(from_address(lab, "198.51.100.2"), ALICE, PASSWORD).status_code == 200

    clock.tick(WINDOW)
    assert login(guesser, ALICE, PASSWORD).status_code == 200


def test_a_success_does_not_clear_the_clients_count(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    """A guesser with one real account must not reset its allowance between guesses."""
    lab.signup(ALICE, PASSWORD)
    guesser = from_address(lab, "203.0.113.8")
    for n in range(PER_CLIENT - 1):
        assert login(guesser, f"user{n}@example.com", WRONG).status_code == 401
    assert login(guesser, ALICE, PASSWORD).status_code == 200
    assert login(guesser, "user99@example.com", WRONG).status_code == 401
    assert_throttled(login(guesser, "user100@example.com", WRONG))


def test_old_failures_are_pruned(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.signup(ALICE, PASSWORD)
    fail_logins(lab.client(), "x@example.com", 3)
    clock.tick(WINDOW)
    fail_logins(lab.client(), "y@example.com", 1)
    assert [r[0] for r in lab.query("SELECT scope FROM login_failures")] == [
        "email:y@example.com|ip:testclient",
        "email:y@example.com",
        "ip:testclient",
    ]


# Second-factor codes, per account ----------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def carol(lab: Lab, clock: FrozenDateTimeFactory) -> str:
    """Carol has TOTP on; returns her secret."""
    client = lab.person("carol@example.com", PASSWORD)
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    secret = client.post("/me/2fa/setup").json()["secret"]
    r = client.post("/me/2fa/enable", json={"code": code_at(secret, now())})
    assert r.status_code == 200, r.text
    clock.tick(30)
    return secret


def second_factor(lab: Lab, code: str):
    client = lab.client()
    r = login(client, "carol@example.com", PASSWORD)
    assert r.json()["two_factor_required"] is True, r.text
    return client, client.post("/auth/login/2fa", json={"code": code})


def test_wrong_codes_are_limited_across_sign_ins(
    lab: Lab, carol: str, clock: FrozenDateTimeFactory
) -> None:
    """One pending sign-in allows 5 tries; signing in again with the password must not give
    a guesser who has it a fresh set: 10 wrong codes per account per window."""
    client = lab.client()
    for n in range(CODES):
        if n % 5 == 0:
            assert login(client, "carol@example.com", PASSWORD).json()["two_factor_required"]
        r = client.post("/auth/login/2fa", json={"code": "000000"})
        assert r.status_code == 401, r.text
    _, r = second_factor(lab, code_at(carol, now()))
    assert_throttled(r, retry_after=WINDOW)

    clock.tick(WINDOW)
    client, r = second_factor(lab, code_at(carol, now()))
    assert r.status_code == 200, r.text


def test_a_right_code_does_not_reset_the_code_count(
    lab: Lab, carol: str, clock: FrozenDateTimeFactory
) -> None:
    client = lab.client()
    for n in range(CODES - 1):
        if n % 5 == 0:
            login(client, "carol@example.com", PASSWORD)
        assert client.post("/auth/login/2fa", json={"code": "000000"}).status_code == 401
    client, r = second_factor(lab, code_at(carol, now()))
    assert r.status_code == 200, r.text
    clock.tick(30)
    assert client.post("/auth/confirm", json={"code": "000000"}).status_code == 401
    assert_throttled(client.post("/auth/confirm", json={"code": code_at(carol, now())}))


def test_the_code_limit_also_guards_confirmation_and_2fa_removal(
    lab: Lab, carol: str, clock: FrozenDateTimeFactory
) -> None:
    client, r = second_factor(lab, code_at(carol, now()))
    assert r.status_code == 200, r.text
    clock.tick(30)
    # Turning 2FA off takes a second factor (the step-up policy): a recovery code here.
    code = lab.recovery_codes("carol@example.com")[0]
    assert client.post("/auth/confirm", json={"recovery_code": code}).status_code == 200
    for _ in range(CODES):
        r = client.post("/me/2fa/disable", json={"code": "000000"})
        assert r.status_code == 401, r.text
    assert_throttled(client.post("/me/2fa/disable", json={"code": code_at(carol, now())}))
    assert_throttled(client.post("/auth/confirm", json={"code": code_at(carol, now())}))
    assert lab.user("carol@example.com")["totp_enabled"] == 1
    # A password confirmation is not a code: it still works.
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200


# Confirmations, per session ---------------------------------------------------------------


def test_five_failed_confirmations_sign_the_session_out(lab: Lab, clock) -> None:
    client = lab.person(ALICE, PASSWORD)
    for _ in range(4):
        r = client.post("/auth/confirm", json={"password": WRONG})
        assert r.json()["code"] == "invalid_credentials", r.text
    r = client.post("/auth/confirm", json={"password": WRONG})
    assert r.status_code == 401 and r.json()["code"] == "session_revoked", r.text
    assert lab.query("SELECT COUNT(*) FROM sessions")[0][0] == 0
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 401


def test_a_successful_confirmation_resets_the_session_count(lab: Lab, clock) -> None:
    client = lab.person(ALICE, PASSWORD)
    for _ in range(4):
        assert client.post("/auth/confirm", json={"password": WRONG}).status_code == 401
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    for _ in range(4):
        r = client.post("/auth/confirm", json={"password": WRONG})
        assert r.json()["code"] == "invalid_credentials", r.text
    assert client.get("/me").status_code == 200


# Issue 18: who is locked, what lifts it, one client however it writes its address -----------------


def test_a_reset_lifts_the_lock_on_the_account(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    """Five wrong passwords from the owner's own network (a guesser behind the same address),
    and guessers everywhere else: a reset through the inbox ends both locks at once."""
    lab.signup(ALICE, PASSWORD)
    owner = lab.client()
    fail_logins(owner, ALICE, PER_ACCOUNT)
    for n in range(PER_ACCOUNT_TOTAL // PER_ACCOUNT - 1):
        fail_logins(from_address(lab, f"10.9.0.{n + 1}"), ALICE, PER_ACCOUNT)
    assert_throttled(login(owner, ALICE, PASSWORD))
    assert_throttled(login(from_address(lab, "198.51.100.9"), ALICE, PASSWORD))

    assert owner.post("/auth/password-reset", json={"email": ALICE}).status_code == 202
    token = lab.last_link(ALICE).rsplit("token=", 1)[1]
    r = owner.post(
        "/auth/password-reset/complete", json={"token": token, "new_password": "a new one 42"}
    )
    assert r.status_code == 200, r.text
    assert login(owner, ALICE, "a new one 42").status_code == 200
    assert login(from_address(lab, "198.51.100.9"), ALICE, "a new one 42").status_code == 200


@pytest.mark.parametrize(
    ("spellings", "same_client"),
    [
        (["2001:DB8::1", "2001:db8::1", "2001:db8::ffff:1", "2001:0db8:0:0:1::7"], "2001:db8::9"),
        (["192.0.2.7", "::ffff:192.0.2.7", "::FFFF:c000:0207", "192.0.2.7"], "::ffff:192.0.2.7"),
    ],
    ids=["ipv6-per-64", "ipv4-mapped"],
)
def test_one_client_is_counted_once_however_it_writes_its_address(
    lab: Lab, clock: FrozenDateTimeFactory, spellings: list[str], same_client: str
) -> None:
    """Another spelling, another address of the same /64, or an IPv4 address written as
    IPv6 used to get a fresh allowance each."""
    lab.signup(ALICE, PASSWORD)
    for address in [*spellings, same_client]:
        fail_logins(from_address(lab, address), ALICE, 1)
    assert_throttled(login(from_address(lab, same_client), ALICE, PASSWORD), retry_after=WINDOW)
    scopes = {r[0] for r in lab.query("SELECT scope FROM login_failures WHERE scope LIKE '%ip:%'")}
    assert len(scopes) == 2, scopes  # the client, and the client guessing Alice: one of each


def test_another_64_is_another_client(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.signup(ALICE, PASSWORD)
    fail_logins(from_address(lab, "2001:db8::1"), ALICE, PER_ACCOUNT)
    assert login(from_address(lab, "2001:db8:0:1::1"), ALICE, PASSWORD).status_code == 200


def test_checks_under_way_are_no_failures_and_ask_for_a_second(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Five checks of Alice's password are under way from this client (the rows five sign-ins
    leave while bcrypt runs): a sixth must wait for one of them, and is told so truthfully —
    a second, not the window. Nothing was counted as a failure. A check whose server died
    (a row a minute old) holds nothing."""
    lab.signup(ALICE, PASSWORD)
    for _ in range(PER_ACCOUNT):
        lab.execute(
            "INSERT INTO attempts_in_flight (scope, started_at) VALUES (?, ?)",
            f"email:{ALICE}|ip:testclient",
            "2026-01-15T09:00:00Z",
        )
    r = login(lab.client(), ALICE, PASSWORD)
    assert_throttled(r, retry_after=1)
    assert "at once" in r.json()["error"], r.text
    assert lab.query("SELECT COUNT(*) FROM login_failures WHERE scope LIKE '%ip:%'")[0][0] == 0
    clock.tick(61)
    assert login(lab.client(), ALICE, PASSWORD).status_code == 200
