"""``make serve`` seeds demo accounts: dev mode only, never over an existing account."""

from collections.abc import Callable

import pyotp
import pytest
from app_helpers import count, now

from course_app.security.tokens import new_recovery_codes
from course_app.seed import CAROL_RECOVERY_CODES, CAROL_TOTP_SECRET, DEMO_ACCOUNTS, seed_demo
from course_kit.lab import Lab

PASSWORDS = {account.email: account.password for account in DEMO_ACCOUNTS}


def sign_in(lab: Lab, email: str, password: str | None = None) -> dict:
    client = lab.client()
    r = client.post("/auth/login", json={"email": email, "password": password or PASSWORDS[email]})
    assert r.status_code == 200, r.text
    body = r.json()
    body["client"] = client
    return body


def test_seeding_refuses_outside_dev_mode(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(dev_mode=False)
    with pytest.raises(RuntimeError, match="dev mode"):
        seed_demo(lab.settings)
    assert count(lab, "users") == 0


def test_seeding_creates_alice_bob_and_carol(lab: Lab) -> None:
    lines = seed_demo(lab.settings)
    assert sorted(
        u["email"] for u in lab.query("SELECT email FROM users WHERE email_verified")
    ) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    text = "\n".join(lines)
    for account in DEMO_ACCOUNTS:
        assert account.email in text and account.password in text
    assert CAROL_TOTP_SECRET in text
    assert text.count("[created]") == 3


def test_alice_owns_acme_and_bob_is_a_member(lab: Lab) -> None:
    seed_demo(lab.settings)
    alice = sign_in(lab, "alice@example.com")["client"]
    bob = sign_in(lab, "bob@example.com")["client"]
    [acme] = alice.get("/orgs").json()
    assert (acme["name"], acme["role"]) == ("Acme", "owner")
    assert bob.get("/orgs").json() == [acme | {"role": "member"}]
    carol = sign_in(lab, "carol@example.com")
    assert carol["two_factor_required"] is True


def test_carol_signs_in_with_the_printed_secret(lab: Lab) -> None:
    seed_demo(lab.settings)
    client = sign_in(lab, "carol@example.com")["client"]
    r = client.post("/auth/login/2fa", json={"code": pyotp.TOTP(CAROL_TOTP_SECRET).at(now())})
    assert r.status_code == 200, r.text
    me = client.get("/me").json()
    assert me["two_factor_enabled"] is True
    assert me["methods"] == ["password", "totp", "recovery_code"]


def test_carols_printed_recovery_codes_work_once_and_stop_being_printed(lab: Lab) -> None:
    text = "\n".join(seed_demo(lab.settings))
    assert all(code in text for code in CAROL_RECOVERY_CODES)
    real = new_recovery_codes(1)[0]
    assert [len(part) for part in CAROL_RECOVERY_CODES[0].split("-")] == [
        len(part) for part in real.split("-")
    ]  # the same format as the codes people get
    used = CAROL_RECOVERY_CODES[0]
    client = sign_in(lab, "carol@example.com")["client"]
    r = client.post("/auth/login/2fa", json={"recovery_code": used})
    assert r.status_code == 200, r.text
    again = "\n".join(seed_demo(lab.settings))
    assert used not in again
    assert all(code in again for code in CAROL_RECOVERY_CODES[1:])


def test_seeding_never_overwrites_an_existing_user(lab: Lab) -> None:
    lab.signup("alice@example.com", "alice's own password")
    lines = seed_demo(lab.settings)
    assert "exists, left as is" in next(line for line in lines if "alice@example.com" in line)
    sign_in(lab, "alice@example.com", "alice's own password")
    r = lab.client().post(
        "/auth/login",
        json={"email": "alice@example.com", "password": PASSWORDS["alice@example.com"]},
    )
    assert r.status_code == 401, r.text
    assert count(lab, "orgs") == 0  # her account is hers: no demo org appears in it
    assert count(lab, "users") == 3


def test_seeding_twice_changes_nothing(lab: Lab) -> None:
    seed_demo(lab.settings)
    with lab.db() as conn:
        before = [tuple(r) for r in conn.execute("SELECT * FROM users ORDER BY id")]
    lines = seed_demo(lab.settings)
    assert "\n".join(lines).count("exists, left as is") == 3
    with lab.db() as conn:
        assert [tuple(r) for r in conn.execute("SELECT * FROM users ORDER BY id")] == before
    assert count(lab, "orgs") == 1
    assert count(lab, "memberships") == 2
