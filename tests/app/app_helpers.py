"""Small helpers shared by the reference-app tests (imported by name: pytest puts this
folder on ``sys.path``)."""

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_app.security.totp import code_at
from course_app.sessions import COOKIE
from course_kit.lab import Lab

PASSWORD = "correct horse"
ALICE = "alice@example.com"
BOB = "bob@example.com"
EVE = "eve@evil.test"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def confirm(client: TestClient, **factor: str) -> dict[str, Any]:
    """Step up with ``factor`` (the password by default) and return the 200 body."""
    r = client.post("/auth/confirm", json=factor or {"password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def session_token(client: TestClient) -> str:
    token = client.cookies.get(COOKIE)
    assert token, "the client carries no session cookie"
    return token


def with_cookie(lab: Lab, token: str) -> TestClient:
    """Another browser that presents ``token`` as its session cookie."""
    client = lab.client()
    client.cookies.set(COOKIE, token)
    return client


def assert_reauth_required(r: httpx.Response, methods: list[str] | None = None) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "reauth_required", r.text
    if methods is not None:
        assert r.json()["methods"] == methods, r.text


def assert_forbidden(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "Forbidden", "code": "forbidden"}, r.text


def expect(r: httpx.Response, status: int) -> httpx.Response:
    """``r`` after checking its status (the body is in the failure message)."""
    assert r.status_code == status, r.text
    return r


def assert_signed_in(client: TestClient) -> None:
    expect(client.get("/me"), 200)


def assert_signed_out(client: TestClient) -> None:
    r = client.get("/me")
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "Authentication required", r.text


@dataclass
class TwoFactor:
    secret: str
    recovery_codes: list[str]

    def code(self, steps_ahead: int = 0) -> str:
        """The code an authenticator shows now (or ``steps_ahead`` 30-second steps later)."""
        return code_at(self.secret, now() + timedelta(seconds=30 * steps_ahead))

    def wrong_code(self) -> str:
        """Six digits that no step the server accepts right now would show."""
        valid = {self.code(steps) for steps in (-1, 0, 1)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def enable_2fa(client: TestClient, clock: FrozenDateTimeFactory) -> TwoFactor:
    """Confirm, set up and enable TOTP, then move the clock one step on: the enabling code's
    step is spent, so the next code the authenticator shows is a fresh one."""
    confirm(client)
    r = client.post("/me/2fa/setup")
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = client.post("/me/2fa/enable", json={"code": code_at(secret, now())})
    assert r.status_code == 200, r.text
    clock.tick(30)
    return TwoFactor(secret, r.json()["recovery_codes"])


def sign_in_2fa(lab: Lab, email: str, **factor: str) -> tuple[TestClient, httpx.Response]:
    """A new browser: password first, then the second factor; returns the client and the
    answer of ``/auth/login/2fa``."""
    client = lab.client()
    assert lab.login(client, email, PASSWORD)["two_factor_required"] is True
    return client, client.post("/auth/login/2fa", json=factor)


def table_dump(lab: Lab) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compared before and after a refused request."""
    with closing(lab.db()) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {name: [tuple(r) for r in conn.execute(f"SELECT * FROM {name}")] for name in names}


def count(lab: Lab, table: str, where: str = "1", *params: Any) -> int:
    return int(lab.query(f"SELECT COUNT(*) FROM {table} WHERE {where}", *params)[0][0])


def user_id(lab: Lab, email: str) -> int:
    row = lab.user(email)
    assert row is not None, email
    return int(row["id"])


def invite(client: TestClient, org_id: int, email: str, role: str = "member") -> httpx.Response:
    return client.post(f"/orgs/{org_id}/members", json={"email": email, "role": role})
