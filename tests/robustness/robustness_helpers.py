"""Helpers for the robustness tests (imported by name: pytest puts this folder on ``sys.path``)."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
from fastapi.testclient import TestClient

from course_app.sessions import COOKIE
from course_kit.lab import ORIGIN, PASSWORD, Lab, client_for, path_of

TIMEOUT = 30.0  # seconds any one request may take on a busy machine

# A cross-site attacker's page, and what its browser says about the requests it makes.
EVIL = "https://evil.example"
FROM_EVIL = {"origin": EVIL, "sec-fetch-site": "cross-site"}
SAME_ORIGIN = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}


def as_form(client: TestClient, url: str, fields: dict[str, str], **headers: str) -> Any:
    """What an HTML ``<form method="post">`` sends."""
    return client.post(url, data=fields, headers=headers)


@dataclass
class FuzzStats:
    """Counts of the fuzz run, printed at the end of the session (see ``conftest.py``)."""

    cases: Counter[str] = field(default_factory=Counter)  # "anonymous" / "signed in"
    operations: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    renewals: int = 0

    def count(self, mode: str, operation: str, status: int) -> None:
        self.cases[mode] += 1
        self.operations.add(operation)
        self.statuses[status] += 1

    def lines(self) -> list[str]:
        if not self.cases:
            return []
        total = sum(self.cases.values())
        modes = ", ".join(f"{mode}: {n}" for mode, n in sorted(self.cases.items()))
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        server_errors = sum(n for code, n in self.statuses.items() if code >= 500)
        return [
            f"{total} generated requests over {len(self.operations)} operations ({modes})",
            f"answers: {statuses}",
            f"server errors: {server_errors}; signed-in sessions renewed {self.renewals} times",
        ]


FUZZ = FuzzStats()


class SignedIn:
    """A person whose session is live and recently confirmed, whatever the fuzzer did to it.

    Fuzzed requests sign the session out, rotate its cookie, change the password or the
    address, or delete the account; :meth:`cookies` notices (``GET /me``) and confirms again,
    signs in again, or signs up someone new. Each person gets a client address of their own,
    so neither the fuzzer's failed sign-ins (all from ``testclient``) nor the keeper's own
    attempts with a password the fuzzer changed add up to a throttle.
    """

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.people = 0
        self.client: TestClient | None = None
        self.email = ""

    def cookies(self) -> dict[str, str]:
        if self.client is None or not self._recent():
            FUZZ.renewals += 1
            self._renew()
        assert self.client is not None
        return {COOKIE: self.client.cookies[COOKIE]}

    def _recent(self) -> bool:
        assert self.client is not None
        r = self.client.get("/me")
        return r.status_code == 200 and r.json()["reauth"]["recent"]

    def _renew(self) -> None:
        if self.client is not None:
            if self.client.get("/me").status_code == 200 and self._confirm():
                return
            r = self.client.post("/auth/login", json={"email": self.email, "password": PASSWORD})
            if r.status_code == 200 and self._confirm():
                return
        self._new_person()

    def _confirm(self) -> bool:
        assert self.client is not None
        return self.client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200

    def _new_person(self) -> None:
        self.people += 1
        self.email = f"fuzz{self.people}@example.com"
        address = f"10.0.{self.people // 250}.{self.people % 250 + 1}"
        self.client = TestClient(
            self.lab.app, base_url=ORIGIN, headers={"origin": ORIGIN}, client=(address, 1)
        )
        self.lab.clients.append(self.client)
        r = self.client.post("/auth/signup", json={"email": self.email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = self.client.get(path_of(self.lab.last_link(self.email)))  # verified: may build
        assert r.status_code == 200, r.text
        r = self.client.post("/auth/login", json={"email": self.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert self.client.post("/orgs", json={"name": "Fuzz"}).status_code == 201
        assert self._confirm()


def browser_client(lab: Lab) -> TestClient:
    """A same-origin browser: ``Origin`` and ``Sec-Fetch-Site`` as Chromium sends them."""
    client = client_for(lab.app)
    client.headers["sec-fetch-site"] = "same-origin"
    lab.clients.append(client)
    return client


def at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job on its own worker thread, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        barrier.wait(timeout=TIMEOUT)
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


LOST_RACE = {(409, "superseded"), (401, "not_authenticated")}  # refused, nothing counted


def confirm(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    return client.post("/auth/confirm", json={"password": password})


@contextmanager
def tabs(
    client: httpx.Client, open_tab: Callable[[], httpx.Client], count: int
) -> Iterator[list[httpx.Client]]:
    """``count`` tabs of ``client``'s browser (each from ``open_tab``): its cookie as it is
    now, a connection each already open. A burst from one shared client is no burst from
    one session: a request that leaves after the winner answered carries the winner's new
    cookie, and wins too."""
    copies = [open_tab() for _ in range(count)]
    try:
        for copy in copies:
            copy.cookies.update(client.cookies)
            assert copy.get("/me").status_code == 200
        yield copies
    finally:
        for copy in copies:
            copy.close()


def warm(client: httpx.Client, connections: int) -> None:
    """Open ``connections`` keep-alive connections first, so a burst leaves at once instead
    of queueing behind TCP handshakes (that would serialise it and hide any race)."""
    assert all(r.status_code == 200 for r in at_once([partial(client.get, "/me")] * connections))
