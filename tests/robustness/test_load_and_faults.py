"""Load and faults on a real ``stepup serve`` process (issue 18): parallel confirmations and
password changes from one session, a ``kill -9`` in the middle of writes, a read-only
database that becomes writable again, and clients that never finish their headers or body.

Seconds, not minutes: the runs with hundreds of clients are ``python -m bench load``, their
figures in docs/performance.md. Every wait here has a generous bound and no assertion is
about time: what is checked is what the server answered and what the database holds.
"""

import socket
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from functools import partial
from pathlib import Path

import httpx
import pytest
from robustness_helpers import LOST_RACE, TIMEOUT, at_once, confirm, tabs
from server_process import Served, obey_file_modes, running

from course_kit.lab import path_of

WRONG = "wrong password"
SLOW_LIMIT = 10  # seconds a slow client keeps its connection


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running(tmp_path_factory.mktemp("served")) as served:
        yield served


# Parallel right answers from one session ----------------------------------------------------


def test_six_right_confirmations_at_once_leave_the_session_confirmed(server: Served) -> None:
    """Each right answer was counted as a failure before bcrypt ran: six at once signed the
    session out. Now one wins; the others lost a race (409 superseded, or 401 when they
    arrived after the winner had replaced the cookie) or found the session's checks busy
    (429, Retry-After: 1). None is a failure."""
    client = server.person("six@example.com")
    with tabs(client, server.client, 6) as six:
        answers = at_once([partial(confirm, tab) for tab in six])
    codes = Counter(r.status_code for r in answers)
    assert codes[200] == 1, [r.text for r in answers]
    for r in answers:
        if r.status_code != 200:
            assert (r.status_code, r.json()["code"]) in LOST_RACE | {(429, "rate_limited")}
            if r.status_code == 429:
                assert r.headers["retry-after"] == "1", r.headers
    [ok] = [r for r in answers if r.status_code == 200]
    client.cookies.update(ok.cookies)
    assert client.get("/me").json()["reauth"]["recent"] is True
    [row] = server.query(
        "SELECT s.failed_confirmations FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE u.email = 'six@example.com'"
    )
    assert row[0] == 0


def test_four_typos_and_a_double_click_do_not_sign_the_session_out(server: Served) -> None:
    client = server.person("typo@example.com")
    for left in (4, 3, 2, 1):
        r = confirm(client, WRONG)
        assert (r.status_code, r.json().get("attempts_left")) == (401, left), r.text
    with tabs(client, server.client, 2) as two:
        answers = at_once([partial(confirm, tab) for tab in two])
    assert sorted(r.status_code for r in answers)[0] == 200, [r.text for r in answers]
    loser = max(answers, key=lambda r: r.status_code)
    assert (loser.status_code, loser.json()["code"]) in LOST_RACE | {(429, "rate_limited")}
    [ok] = [r for r in answers if r.status_code == 200]
    client.cookies.update(ok.cookies)
    assert client.get("/me").status_code == 200


def test_parallel_password_changes_from_one_session_leave_one_that_works(
    server: Served,
) -> None:
    """Each used to answer 200 with a cookie of its own, and only the last one worked."""
    email = "changes@example.com"
    client = server.person(email)
    new = [f"new password {n}" for n in range(4)]
    with tabs(client, server.client, 4) as four:
        answers = at_once(
            [
                partial(tab.put, "/me/password", json={"new_password": password})
                for tab, password in zip(four, new, strict=True)
            ]
        )
    winners = [n for n, r in enumerate(answers) if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in answers]
    for r in answers:
        if r.status_code != 200:  # refused, whether its guard or its write met the winner
            assert (r.status_code, r.json()["code"]) in LOST_RACE, r.text
    client.cookies.update(answers[winners[0]].cookies)
    assert client.get("/me").status_code == 200
    for n, password in enumerate(new):
        r = server.client().post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == (200 if n == winners[0] else 401), r.text


# A kill in the middle of writes ---------------------------------------------------------------


def test_a_kill_during_writes_loses_neither_a_change_nor_its_entry(tmp_path: Path) -> None:
    """``kill -9`` while keys are minted and revoked and addresses change: the file is
    intact, and every committed change has its entry and every entry its change."""
    with running(tmp_path) as served:
        people = [served.person(f"w{n}@example.com") for n in range(3)]
        orgs = [c.post("/orgs", json={"name": "Load"}).json()["id"] for c in people]
        stop = threading.Event()

        def write(client: httpx.Client, org: int, n: int) -> None:
            flip = 0
            while not stop.is_set():
                try:
                    r = client.post(f"/orgs/{org}/api-keys", json={"name": "k"})
                    if r.status_code == 201:
                        client.delete(f"/orgs/{org}/api-keys/{r.json()['id']}")
                    flip ^= 1
                    address = f"w{n}.{flip}@example.com"
                    if client.put("/me/email", json={"email": address}).status_code == 200:
                        # Verified again (its own session opens the link), or no more keys.
                        client.get(path_of(served.last_link(address)))
                except (httpx.TransportError, sqlite3.Error):
                    return  # the server is gone

        threads = [
            threading.Thread(target=write, args=(c, o, n))
            for n, (c, o) in enumerate(zip(people, orgs, strict=True))
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while served.query("SELECT COUNT(*) FROM api_keys")[0][0] < 30:
            assert time.monotonic() < deadline, "no writes within a minute"
            time.sleep(0.05)
        served.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT)

    assert served.query("PRAGMA integrity_check")[0][0] == "ok"
    keys = {row["id"]: row for row in served.query("SELECT * FROM api_keys")}
    created = served.query("SELECT detail FROM audit_log WHERE event = 'api_key_created'")
    revoked = served.query("SELECT detail FROM audit_log WHERE event = 'api_key_revoked'")
    assert len(created) == len(keys) > 0
    assert {int(row["detail"].split("key ")[1].split()[0]) for row in created} == set(keys)
    assert len(revoked) == sum(1 for key in keys.values() if key["revoked_at"])
    for user in served.query("SELECT id, email FROM users"):
        changes = served.query(
            "SELECT detail FROM audit_log WHERE user_id = ? AND event = 'email_changed'"
            " ORDER BY id DESC LIMIT 1",
            user["id"],
        )
        if changes:  # the newest entry names the address the account has
            assert changes[0]["detail"] == f"changed to {user['email']}"
    with running(tmp_path) as again:  # and it starts again on that file
        r = again.client().post("/auth/login", json={"email": "w0@example.com", "password": "x"})
        assert r.status_code in (401, 429), r.text


# A read-only episode -----------------------------------------------------------------------


def mode(path: Path) -> int | None:
    """The file's permission bits, or None: SQLite removes ``-shm`` whenever its last
    connection closes, between any two looks of ours."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def test_writes_come_back_after_a_read_only_episode(tmp_path: Path) -> None:
    """While the file is read-only SQLite makes its ``-shm`` read-only too, and that file
    outlived the episode: every write answered 503 until a restart, which was refused. Now
    the first write that meets it repairs it."""
    with running(tmp_path, preexec=obey_file_modes) as served:
        client = served.person("ro@example.com")
        db = served.db_path
        db.chmod(0o444)
        try:
            assert client.get("/me").status_code == 200  # reads go on
            r = client.post("/orgs", json={"name": "Read-only"})
            assert r.status_code == 503 and r.json()["code"] == "db_unavailable", r.text
        finally:
            db.chmod(0o644)
        shm = Path(f"{db}-shm")
        during = mode(shm)
        if during is not None:
            assert during & stat.S_IWUSR == 0, "the episode left no read-only -shm behind"
        answers = [client.post("/orgs", json={"name": "Writable"}) for _ in range(2)]
        first = (answers[0].status_code, answers[0].json().get("code"))
        assert first in ((201, None), (503, "db_unavailable")), answers[0].text
        assert answers[1].status_code == 201, [r.text for r in answers]
        after = mode(shm)
        assert after is None or after & stat.S_IWUSR
        assert "was read-only" in served.log() or answers[0].status_code == 201


# Slow clients ------------------------------------------------------------------------------


def raw_request(base_url: str, data: bytes) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT)
    sock.sendall(data.replace(b"HOST", f"{host}:{port}".encode()))
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """Whatever the server sends until it closes the connection (b"" if it just closes)."""
    chunks = []
    with closing(sock):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_slow_clients_are_cut_off_and_a_crowd_is_capped(tmp_path: Path) -> None:
    """Four connections at most; headers within 10 s; a body within 10 s. The slow ones are
    closed, the one over the cap gets a 503 at once, and the server answers the next client.
    (10 s, not less: the fifth connection must be taken while the four slow ones still hold
    their places, however busy the machine.)"""
    with running(
        tmp_path,
        "--max-connections",
        "4",
        "--header-timeout",
        str(SLOW_LIMIT),
        STEPUP_BODY_TIMEOUT_SECONDS=str(SLOW_LIMIT),
    ) as served:
        slow_headers = [
            raw_request(served.base_url, b"GET /me HTTP/1.1\r\nHost: HOST\r\n") for _ in range(3)
        ]
        slow_body = raw_request(
            served.base_url,
            b"POST /auth/login HTTP/1.1\r\nHost: HOST\r\ncontent-type: application/json\r\n"
            b'content-length: 100\r\n\r\n{"email"',
        )
        # The server takes connections in the order they queued: the fifth is over the cap.
        over = answer_of(raw_request(served.base_url, b"GET /me HTTP/1.1\r\nHost: HOST\r\n\r\n"))
        assert over.startswith(b"HTTP/1.1 503"), over
        assert b'"code":"busy"' in over and b"retry-after: 1" in over.lower(), over

        assert [answer_of(sock) for sock in slow_headers] == [b""] * 3  # closed, no answer
        late = answer_of(slow_body)
        assert late.startswith(b"HTTP/1.1 408"), late
        assert b'"code":"request_timeout"' in late, late

        r = served.client().get("/me")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated", r.text
        assert "Traceback" not in served.log()
