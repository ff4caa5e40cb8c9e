"""The lab: a fresh app with its own database file, and people who sign in and confirm
through its real HTTP routes. Shared by the app's tests, the notebooks and (through the grader's
:class:`~course_kit.grading.judge.remote.RemoteLab`) the graded tests.

The app, its test client and uvicorn are imported where they are used: the graded tests'
judge uses these helpers against a submission process and never builds an app of its own.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from course_app.sessions import COOKIE
from course_app.settings import Settings
from course_kit import people
from course_kit.impl import ExerciseFile, Implementation, resolve
from course_kit.kit import ORIGIN
from course_kit.people import PASSWORD, lab_settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient


def client_for(app: FastAPI) -> TestClient:
    """A browser-like client: keeps cookies, sends the app's own Origin (the CSRF check
    refuses any other on POST, PUT, PATCH and DELETE)."""
    from fastapi.testclient import TestClient

    settings = getattr(app.state, "settings", None)
    origin = settings.origin if settings is not None else ORIGIN
    return TestClient(app, base_url=origin, headers={"origin": origin})


@dataclass
class Lab:
    """One app plus helpers to populate it. ``lab.person(...)`` gives a signed-in client."""

    settings: Settings
    app: FastAPI
    clients: list[TestClient] = field(default_factory=list)
    running: list[TestClient] = field(default_factory=list)  # entered: exit on close()
    # Two-factor secrets of the people made with ``two_factor=True``, by address.
    secrets: dict[str, str] = field(default_factory=dict)
    # Keep each client's event-loop thread running between requests (a third faster); the
    # notebooks turn it off because nothing closes their clients.
    persistent_clients = True

    @classmethod
    def start(
        cls,
        impl: Implementation | str | None = "solutions",
        exercises: Iterable[ExerciseFile] | None = None,
        folder: Path | None = None,
        **overrides: Any,
    ) -> Lab:
        """The app with ``impl``'s routers for ``exercises`` (default: every exercise of the
        course) on a fresh database."""
        implementation = impl if isinstance(impl, Implementation) else resolve(impl)
        if exercises is None:
            from course_kit.manifest import load_course

            exercises = load_course().exercises
        settings = lab_settings(folder, **overrides)
        return cls(settings, implementation.build_app(settings, exercises))

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.settings.db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self.db() as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, *params: Any) -> int:
        """Write one statement and commit it; returns the new row's id."""
        with self.db() as conn:
            return int(conn.execute(sql, params).lastrowid or 0)

    def client(self) -> TestClient:
        client = client_for(self.app)
        if self.persistent_clients:
            client.__enter__()
            self.running.append(client)
        self.clients.append(client)
        return client

    def signup(self, email: str, password: str, verified: bool = True) -> TestClient:
        """Create an account (and click its verification link when ``verified``)."""
        client = self.client()
        r = client.post("/auth/signup", json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        if verified:
            r = client.get(path_of(self.last_link(email)))
            assert r.status_code == 200, r.text
        return client

    def enroll(self, email: str, password: str = PASSWORD, verified: bool = True) -> int:
        """Create an account with the app's own functions, skipping the sign-up round trips
        (``signup()`` is the HTTP way). An unverified account gets its link mailed."""
        return people.enroll(self.settings, email, password, verified)

    def person(
        self,
        email: str,
        password: str = PASSWORD,
        verified: bool = True,
        two_factor: bool = False,
    ) -> TestClient:
        """An account, signed in through ``POST /auth/login``: the client carries the cookie.
        ``two_factor=True`` turns two-factor sign-in on first; the sign-in then spends the
        current code (``lab.totp(email)``), so the next code comes after ``clock.tick(30)``."""
        user_id = self.enroll(email, password, verified)
        if two_factor:
            self.secrets[_key(email)] = self.enable_two_factor(user_id)
        client = self.client()
        self.login(client, email, password)
        return client

    def enable_two_factor(self, user_id: int) -> str:
        """Two-factor sign-in on for ``user_id``; returns the TOTP secret."""
        return people.enable_two_factor(self.settings, user_id)

    def recovery_codes(self, email: str) -> list[str]:
        """A new batch of ten recovery codes for ``email``'s account (the old ones die)."""
        user = self.user(email)
        assert user is not None, f"no account uses {email}"
        return self.issue_recovery_codes(int(user["id"]))

    def issue_recovery_codes(self, user_id: int) -> list[str]:
        return people.recovery_codes(self.settings, user_id)

    def totp(self, email: str) -> str:
        """The code ``email``'s authenticator shows now (made with ``two_factor=True``)."""
        return people.totp_code(self.secrets[_key(email)])

    def login(self, client: TestClient, email: str, password: str) -> dict[str, Any]:
        """Sign in with the password, then, for a person made with ``two_factor=True``, the
        current code (else the answer asks for one, and the caller sends it)."""
        r = client.post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        if r.json().get("two_factor_required") and _key(email) in self.secrets:
            r = client.post("/auth/login/2fa", json={"code": self.totp(email)})
            assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def confirm(
        self, client: TestClient, password: str = PASSWORD, **factor: str
    ) -> httpx.Response:
        """What the "Confirm your identity" dialog sends: ``POST /auth/confirm`` with the
        password, or with the factor given instead (``code=lab.totp(email)``,
        ``recovery_code=…``). The response is returned as it is (a wrong answer is a 401 worth
        looking at)."""
        response: httpx.Response = client.post(
            "/auth/confirm", json=factor or {"password": password}
        )
        return response

    def mail(self, to: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM outbox WHERE to_addr = ? COLLATE NOCASE ORDER BY id", to)

    def last_link(self, to: str) -> str:
        links = [m["link"] for m in self.mail(to) if m["link"]]
        assert links, f"no link was mailed to {to}"
        return str(links[-1])

    def user(self, email: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM users WHERE email = ? COLLATE NOCASE", email)
        return rows[0] if rows else None

    def create_org(self, owner: TestClient, name: str = "Acme") -> int:
        r = owner.post("/orgs", json={"name": name})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def add_member(self, owner: TestClient, org_id: int, email: str, role: str = "member") -> None:
        """Make ``email`` (an account with a verified address) a member of ``org_id`` the way
        the app does it: ``owner`` invites, the member accepts, through the real routes (a
        member already gets the new role with ``PATCH /orgs/{id}/members/{user_id}``).

        Inviting needs a recent confirmation, so each side acts from a session of its own,
        made for the purpose with the app's session function and ended afterwards: ``owner``'s
        own session is left exactly as it was (not confirmed)."""
        r = owner.get("/me")
        assert r.status_code == 200, r.text
        member = self.user(email)
        assert member is not None, f"no account uses {email}"
        joined = self.query(
            "SELECT 1 FROM memberships WHERE org_id = ? AND user_id = ?", org_id, member["id"]
        )
        with self._side_session(r.json()["id"], confirmed=True) as as_owner:
            if joined:
                r = as_owner.patch(f"/orgs/{org_id}/members/{member['id']}", json={"role": role})
                assert r.status_code == 200, r.text
                return
            r = as_owner.post(f"/orgs/{org_id}/members", json={"email": email, "role": role})
            assert r.status_code == 202, r.text
        with self._side_session(member["id"]) as as_member:
            r = as_member.get("/me/invitations")
            assert r.status_code == 200, r.text
            invitation = next(i for i in r.json() if i["org_id"] == org_id)
            r = as_member.post(f"/me/invitations/{invitation['id']}/accept")
            assert r.status_code == 201, r.text

    @contextmanager
    def _side_session(self, user_id: int, confirmed: bool = False) -> Iterator[TestClient]:
        """A client signed in as ``user_id`` in a session of its own (stamped as just
        confirmed when ``confirmed``), deleted on the way out."""
        token, session_id = self.open_session(user_id, confirmed)
        client = self.client()  # however this lab reaches its app
        client.cookies.set(COOKIE, token)
        try:
            yield client
        finally:
            self.end_session(session_id)

    def open_session(self, user_id: int, confirmed: bool = False) -> tuple[str, int]:
        return people.open_session(self.settings, user_id, confirmed)

    def end_session(self, session_id: int) -> None:
        people.end_session(self.settings, session_id)

    def close(self) -> None:
        for client in self.running:
            client.__exit__(None, None, None)
        for client in self.clients:
            client.close()


class Modal:
    """Plays the person at the "Confirm your identity" dialog: gives ``answers`` in turn (the
    last one again and again) and records every challenge it was shown. A client that keeps
    opening it is stuck in a loop: the 51st prompt raises."""

    def __init__(self, *answers: dict[str, str]) -> None:
        self.answers = list(answers) or [{"password": PASSWORD}]
        self.challenges: list[dict[str, Any]] = []

    def __call__(self, challenge: dict[str, Any]) -> dict[str, str]:
        self.challenges.append(challenge)
        if len(self.challenges) > 50:  # a mistake to report, not a crash of ours
            raise AssertionError(f"asked the dialog {len(self.challenges)} times: a loop?")
        return self.answers[min(len(self.challenges), len(self.answers)) - 1]


def _key(email: str) -> str:
    return email.strip().lower()


def path_of(link: str) -> str:
    """``http://localhost:8000/verify-email?token=x`` → ``/verify-email?token=x``."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


@contextmanager
def live_server(folder: Path, **overrides: Any) -> Iterator[tuple[Lab, str]]:
    """The reference app under a real uvicorn on loopback (a free port, a background thread),
    reached as ``http://localhost:PORT`` — also the origin the app trusts."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://localhost:{sock.getsockname()[1]}"
    lab = Lab.start("solutions", folder=folder, origin=base_url, **overrides)
    # Like ``stepup serve``: no X-Forwarded-For from uvicorn (STEPUP_TRUSTED_PROXIES decides).
    config = uvicorn.Config(
        lab.app, log_level="warning", lifespan="off", access_log=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield lab, base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        lab.close()
