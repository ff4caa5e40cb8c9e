"""Many clients against ``stepup serve`` for a while, and ``kill -9`` in the middle of it.

``load``: for each crowd size, that many clients (each from an address of its own in
127.0.0.0/8, so per-client limits apply to each as to a person) sign up once, verify, then
loop until the time is up: sign in, confirm, mint an API key, read it back, change the
password, change the address and verify it, read the account back, sign out. Counted: every
answer by status, any 5xx, any "database is locked", every acknowledged write that could not
be read back, and afterwards every change without its audit entry (and the reverse).

``crash``: the same crowd, killed with SIGKILL every few seconds and started again on the
same file: ``PRAGMA integrity_check`` and the changes-versus-entries count after all kills.

``slow``: the issue's slow-header flood: a server limited to 1,024 file descriptors, 1,100
connections that send half a request head and stop. Counted: how many got the 503, whether a
normal client is still answered during the flood and after the header deadline, and what the
server logged.

bcrypt runs at cost 4 here, so the database, not bcrypt, is what the crowd contends for (at
the default cost 12, two CPUs settle about eight password checks a second).
"""

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.server import PASSWORD, browser, free_port
from bench.stats import Row, percentile

STEPUP = str(Path(sys.executable).parent / "stepup")


@dataclass
class Tally:
    """What the crowd saw; shared by its threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    locked: int = 0
    not_read_back: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, response: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            self.latencies.append(seconds)
            self.locked += "database is locked" in response.text.lower()

    def missing(self, what: str) -> None:
        with self.lock:
            self.not_read_back.append(what)


@contextmanager
def served(
    db: Path, *args: str, descriptors: int | None = None, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``stepup serve`` on ``db`` (``descriptors``: its hard and soft limit on open files)."""

    def limit() -> None:
        if descriptors:
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

    port = free_port()
    url = f"http://localhost:{port}"
    env = os.environ | {
        "STEPUP_DB_PATH": str(db),
        "STEPUP_BCRYPT_ROUNDS": "4",
        "STEPUP_ORIGIN": url,
    }
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [STEPUP, "serve", "--port", str(port), "--no-dev", *args],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        preexec_fn=limit,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with browser(url) as probe:
                    probe.get("/signin")
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("stepup serve did not start") from None
                time.sleep(0.05)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def last_link(db: Path, to: str) -> str:
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        row = conn.execute(
            "SELECT link FROM outbox WHERE to_addr = ? AND link IS NOT NULL ORDER BY id DESC",
            (to,),
        ).fetchone()
    parts = urlsplit(row[0])
    return f"{parts.path}?{parts.query}"


class Person:
    """One client of the crowd, from an address of its own."""

    def __init__(self, n: int, url: str, db: Path, tally: Tally) -> None:
        self.email = f"load{n}@load.test"
        self.password = PASSWORD
        self.db, self.tally = db, tally
        self.address = f"127.1.{n // 250}.{n % 250 + 1}"
        self.client = browser(url, local_address=self.address)
        self.org = 0
        self.round = 0

    def call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        started = time.perf_counter()
        r = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        self.tally.note(r, time.perf_counter() - started)
        return r

    def start(self) -> None:
        body = {"email": self.email, "password": self.password}
        self.call("POST", "/auth/signup", json=body).raise_for_status()
        self.call("GET", last_link(self.db, self.email)).raise_for_status()
        self.call("POST", "/auth/login", json=body).raise_for_status()
        self.org = self.call("POST", "/orgs", json={"name": "Load"}).json()["id"]

    def one_round(self) -> None:
        self.round += 1
        body = {"email": self.email, "password": self.password}
        if self.call("POST", "/auth/login", json=body).status_code != 200:
            return
        if self.call("POST", "/auth/confirm", json={"password": self.password}).status_code != 200:
            return
        r = self.call("POST", f"/orgs/{self.org}/api-keys", json={"name": f"r{self.round}"})
        if r.status_code == 201:
            keys = self.call("GET", f"/orgs/{self.org}/api-keys").json()
            if r.json()["id"] not in [key["id"] for key in keys]:
                self.tally.missing(f"key {r.json()['id']}")
        new_password = f"load password {self.round}"
        r = self.call("PUT", "/me/password", json={"new_password": new_password})
        if r.status_code == 200:
            self.password = new_password
        new_email = f"load{self.email.split('@')[0][4:]}.{self.round}@load.test"
        if self.call("PUT", "/me/email", json={"email": new_email}).status_code == 200:
            self.email = new_email
            self.call("GET", last_link(self.db, new_email))
            me = self.call("GET", "/me").json()
            if me.get("email") != new_email or me.get("email_verified") is not True:
                self.tally.missing(f"address {new_email}")
        self.call("POST", "/auth/logout")

    def run(self, until: float, stop: threading.Event) -> None:
        while time.monotonic() < until and not stop.is_set():
            try:
                self.one_round()
            except (httpx.TransportError, sqlite3.Error):
                return  # the server was killed


def crowd(size: int, url: str, db: Path, tally: Tally) -> list[Person]:
    people = [Person(n, url, db, tally) for n in range(size)]
    threads = [threading.Thread(target=p.start) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return people


def drive(people: list[Person], seconds: float, stop: threading.Event) -> float:
    until = time.monotonic() + seconds
    started = time.monotonic()
    threads = [threading.Thread(target=p.run, args=(until, stop)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def audit_gaps(db: Path) -> tuple[str, int, int]:
    """``PRAGMA integrity_check``, keys without their entry, entries without their key."""
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        keys = {row[0] for row in conn.execute("SELECT id FROM api_keys")}
        entries = {
            int(detail.split("key ")[1].split()[0])
            for (detail,) in conn.execute(
                "SELECT detail FROM audit_log WHERE event = 'api_key_created'"
            )
        }
    return check, len(keys - entries), len(entries - keys)


def run_load(sizes: tuple[int, ...], seconds: float, say: Callable[[str], None]) -> list[Row]:
    rows = []
    for size in sizes:
        db = Path(tempfile.mkdtemp(prefix="stepup-load-")) / "load.db"
        tally = Tally()
        with served(db) as (url, _):
            say(f"load: {size} clients for {seconds:g} s")
            people = crowd(size, url, db, tally)
            took = drive(people, seconds, threading.Event())
        check, keys_without, entries_without = audit_gaps(db)
        total = sum(tally.statuses.values())
        errors = sum(n for status, n in tally.statuses.items() if status >= 500)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
        rows.append(
            Row(
                "load",
                f"{size} clients, {seconds:g} s",
                f"{total} requests, {total / took:.0f}/s, {errors} 5xx",
                f"p50 {percentile(tally.latencies, 50) * 1000:.0f} ms, p99"
                f" {percentile(tally.latencies, 99) * 1000:.0f} ms; {statuses};"
                f" 'locked': {tally.locked}; not read back: {len(tally.not_read_back)};"
                f" keys without entry {keys_without}, entries without key {entries_without};"
                f" integrity {check}",
            )
        )
    return rows


def run_crash(size: int, kills: int, seconds: float, say: Callable[[str], None]) -> list[Row]:
    db = Path(tempfile.mkdtemp(prefix="stepup-crash-")) / "crash.db"
    tally = Tally()
    people: list[Person] = []
    for kill in range(kills):
        with served(db) as (url, process):
            say(f"crash: run {kill + 1} of {kills}")
            if not people:
                people = crowd(size, url, db, tally)
            for person in people:  # a new server, a new port: new connections
                person.client = browser(url, local_address=person.address)
            stop = threading.Event()

            def kill_now(
                process: subprocess.Popen[bytes] = process, stop: threading.Event = stop
            ) -> None:
                process.send_signal(signal.SIGKILL)
                stop.set()

            killer = threading.Timer(seconds, kill_now)
            killer.start()
            drive(people, seconds + 5, stop)
            killer.cancel()
    check, keys_without, entries_without = audit_gaps(db)
    with closing(sqlite3.connect(db)) as conn:
        keys = conn.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]
    return [
        Row(
            "crash",
            f"kill -9 every {seconds:g} s under {size} clients, {kills} times",
            f"{keys_without} changes without entry",
            f"{keys} keys minted; {entries_without} entries without change; integrity {check}",
        )
    ]


def run_slow(connections: int, descriptors: int, say: Callable[[str], None]) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="stepup-slow-"))
    log = folder / "server.log"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # this process needs its own
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, connections + 256), hard))
    with served(folder / "slow.db", descriptors=descriptors, log=log) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        say(f"slow: {connections} slow-header connections, {descriptors} descriptors")
        head = f"GET /me HTTP/1.1\r\nHost: localhost:{port}\r\n".encode()
        socks, refused_to_connect = [], 0
        for _ in range(connections):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                sock.sendall(head)
                socks.append(sock)
            except OSError:
                refused_to_connect += 1
        with browser(url) as client:
            started = time.perf_counter()
            during = client.get("/me")
            during_seconds = time.perf_counter() - started
        busy = closed = 0
        for sock in socks:
            sock.settimeout(30)
            try:
                answer = sock.recv(200)
            except OSError:
                answer = b""
            busy += answer.startswith(b"HTTP/1.1 503")
            closed += answer == b""
            sock.close()
        with browser(url) as client:
            after = client.get("/me")
        alive = process.poll() is None
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    text = log.read_text(errors="replace")
    return [
        Row(
            "slow clients",
            f"{connections} slow-header connections, {descriptors} descriptors",
            f"{busy} answered 503, {closed} closed at the deadline",
            f"a normal client during the flood: {during.status_code} in"
            f" {during_seconds * 1000:.0f} ms, after: {after.status_code}; server alive: {alive};"
            f" {refused_to_connect} could not connect; log {len(text)} bytes,"
            f" {text.count('Traceback')} tracebacks",
        )
    ]
