"""Issue 11, the lower items on credentials and sessions, each written as the attack:
common passwords, a changed bcrypt cost (timing and rehash), a browser's old session after a
new sign-in, recovery-code strength, notices for 2FA, and user text pasted into mail."""

import re
from collections.abc import Iterator

import bcrypt
import pytest
from app_helpers import ALICE, PASSWORD, confirm, enable_2fa, expect, with_cookie
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_app.mail import quote
from course_app.security import passwords
from course_app.security.tokens import new_recovery_codes
from course_app.sessions import COOKIE
from course_kit.lab import Lab, token_of


@pytest.mark.parametrize("common", ["password1", "iloveyou", "Qwertyuiop", "12345678"])
def test_a_common_password_is_refused_at_sign_up_and_reset(lab: Lab, common: str) -> None:
    r = lab.client().post("/auth/signup", json={"email": ALICE, "password": common})
    assert r.status_code == 400 and r.json()["code"] == "weak_password", r.text
    assert lab.user(ALICE) is None
    lab.enroll(ALICE, PASSWORD)
    expect(lab.client().post("/auth/password-reset", json={"email": ALICE}), 202)
    token = token_of(lab.last_link(ALICE))
    r = lab.client().post(
        "/auth/password-reset/complete", json={"token": token, "new_password": common}
    )
    assert r.status_code == 400 and r.json()["code"] == "weak_password", r.text


def test_a_common_password_is_refused_as_a_new_password(lab: Lab, alice: TestClient) -> None:
    confirm(alice)
    r = alice.put("/me/password", json={"new_password": "trustno1"})
    assert r.status_code == 400 and r.json()["code"] == "weak_password", r.text


class BcryptWork:
    """Adds up the work of every bcrypt check (2^cost each), as the CPU would spend it."""

    def __init__(self) -> None:
        self.units = 0

    def __call__(self, password: bytes, hashed: bytes) -> bool:
        self.units += 2 ** int(hashed.split(b"$")[2])
        return REAL_CHECKPW(password, hashed)


REAL_CHECKPW = bcrypt.checkpw


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[BcryptWork]:
    counter = BcryptWork()
    monkeypatch.setattr(bcrypt, "checkpw", counter)
    yield counter


def test_an_old_cheaper_hash_fails_as_slowly_as_an_unknown_account(work: BcryptWork) -> None:
    """STEPUP_BCRYPT_ROUNDS went from 4 to 6: a known account with its cost-4 hash must not
    answer "wrong password" faster than an unknown one (which costs one check at 6)."""
    old_hash = bcrypt.hashpw(b"correct horse", bcrypt.gensalt(4)).decode()
    assert not passwords.verify_password("wrong guess", None, 6)
    unknown = work.units
    work.units = 0
    assert not passwords.verify_password("wrong guess", old_hash, 6)
    assert work.units == unknown == 2**6


def test_a_lowered_cost_makes_no_wrong_password_cheaper_to_reject(
    tmp_path, work: BcryptWork
) -> None:
    """Issue 18: after STEPUP_BCRYPT_ROUNDS went down (12 → 4), a wrong password for an
    account still hashed at 12 took ten times longer to reject than one for an unknown address.
    Every rejection now costs a check at the highest cost still stored (here 6)."""
    before = Lab.start(folder=tmp_path, bcrypt_rounds=6)
    before.enroll(ALICE, PASSWORD)
    before.close()
    lab = Lab.start(folder=tmp_path, bcrypt_rounds=4)  # the same database, cost lowered
    try:

        def cost_of(email: str, password: str = "wrong guess") -> int:
            work.units = 0
            r = lab.client().post("/auth/login", json={"email": email, "password": password})
            assert r.status_code == (200 if password == PASSWORD else 401), r.text
            return work.units

        assert cost_of(ALICE) == cost_of("nobody@example.com") == 2**6
        cost_of(ALICE, PASSWORD)  # re-hashed at 4 now, and still as dear to get wrong
        assert lab.user(ALICE)["password_hash"].startswith("$2b$04$")
        assert cost_of(ALICE) == 2**6
        client = lab.client()
        lab.login(client, ALICE, PASSWORD)
        work.units = 0
        assert client.post("/auth/confirm", json={"password": "wrong guess"}).status_code == 401
        assert work.units == 2**6
    finally:
        lab.close()


def test_sign_in_rehashes_at_the_new_cost(lab: Lab, tmp_path) -> None:
    lab.enroll(ALICE, PASSWORD)
    assert lab.user(ALICE)["password_hash"].startswith("$2b$04$")
    later = Lab.start(folder=tmp_path, bcrypt_rounds=5)  # same database, cost raised
    try:
        r = later.client().post("/auth/login", json={"email": ALICE, "password": "wrong one!"})
        assert r.status_code == 401, r.text
        assert later.user(ALICE)["password_hash"].startswith("$2b$04$")  # only on success
        later.login(later.client(), ALICE, PASSWORD)
        assert later.user(ALICE)["password_hash"].startswith("$2b$05$")
        later.login(later.client(), ALICE, PASSWORD)  # and the new hash works
    finally:
        later.close()


def test_signing_in_again_ends_the_browsers_previous_session(lab: Lab) -> None:
    lab.enroll(ALICE, PASSWORD)
    lab.enroll("bob@example.com", PASSWORD)
    browser = lab.client()
    lab.login(browser, ALICE, PASSWORD)
    first = browser.cookies.get(COOKIE)
    lab.login(browser, "bob@example.com", PASSWORD)  # another account, same browser
    lab.login(browser, ALICE, PASSWORD)
    r = with_cookie(lab, first).get("/me")  # whoever copied the first cookie
    assert r.status_code == 401, r.text
    assert lab.query("SELECT COUNT(*) FROM sessions")[0][0] == 1


def test_signing_in_with_two_factors_ends_the_previous_session(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    alice = lab.person(ALICE, PASSWORD)
    factor = enable_2fa(alice, clock)
    first = alice.cookies.get(COOKIE)
    alice.post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    expect(alice.post("/auth/login/2fa", json={"code": factor.code()}), 200)
    assert with_cookie(lab, first).get("/me").status_code == 401


def test_recovery_codes_carry_128_bits() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{8}){3}", code), code


def test_turning_2fa_on_is_mailed(lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory):
    enable_2fa(alice, clock)
    subjects = [m["subject"] for m in lab.mail(ALICE)]
    assert "Two-factor authentication was turned on" in subjects, subjects


def test_user_text_cannot_forge_lines_or_spoof_in_mail() -> None:
    forged = 'Laptop"\n\nYour account is locked: visit http://evil.test\u202e'
    quoted = quote(forged)
    assert "\n" not in quoted and "\u202e" not in quoted
    assert quoted.count('"') == 2 and quoted.startswith('"') and quoted.endswith('"')
    assert len(quote("x" * 500)) <= 62


def test_an_org_name_in_an_invitation_is_quoted(lab: Lab, alice: TestClient) -> None:
    r = alice.post("/orgs", json={"name": "Acme\u202e\tsupport: call +1 555"})
    org_id = r.json()["id"]
    confirm(alice)
    expect(alice.post(f"/orgs/{org_id}/members", json={"email": "eve@evil.test"}), 202)
    [mail] = lab.mail("eve@evil.test")
    assert "\u202e" not in mail["body"] and "\t" not in mail["body"]
    assert '"Acme support: call +1 555"' in mail["body"]
