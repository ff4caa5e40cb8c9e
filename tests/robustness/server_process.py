"""``stepup serve`` as people run it, in a process of its own: to kill it, to take its file
descriptors, or to let it meet file modes as a plain user would (imported by name: pytest
puts this folder on ``sys.path``)."""

import ctypes
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from course_kit.lab import PASSWORD, path_of

STEPUP = str(Path(sys.executable).parent / "stepup")  # the console script, as `make serve` runs it
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
START_TIMEOUT = 60.0  # seconds a server may take to start on a busy machine


def _drop(*caps: int) -> None:
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in caps:
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def obey_file_modes() -> None:
    """In the child, before exec: root drops the capabilities that let it ignore file modes,
    so a read-only file is read-only to it too (as it is to any other user)."""
    _drop(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)


def obey_file_owners() -> None:
    """As :func:`obey_file_modes`, and root may no longer change the mode of a file that is
    not its own either."""
    _drop(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    db_path: Path
    log_path: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        """A same-origin browser (the CSRF check wants the app's own ``Origin``)."""
        headers = {"origin": self.base_url, "sec-fetch-site": "same-origin"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0, **kwargs)

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.db_path, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def person(self, email: str) -> httpx.Client:
        """Signed up, verified (the link from the outbox), signed in and just confirmed."""
        client = self.client()
        r = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        assert client.get(path_of(self.last_link(email))).status_code == 200
        r = client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = client.post("/auth/confirm", json={"password": PASSWORD})
        assert r.status_code == 200, r.text
        return client

    def last_link(self, to: str) -> str:
        rows = self.query(
            "SELECT link FROM outbox WHERE to_addr = ? COLLATE NOCASE AND link IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            to,
        )
        assert rows, f"no link was mailed to {to}"
        return str(rows[0]["link"])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def start(
    folder: Path,
    *args: str,
    preexec: Callable[[], None] | None = None,
    **env: str,
) -> Served:
    """Start ``stepup serve`` on a free port with its database in ``folder`` and wait until
    it answers (``--no-dev``, bcrypt cost 4, extra ``STEPUP_*`` settings in ``env``)."""
    port = free_port()
    base_url = f"http://localhost:{port}"
    db_path = folder / "course.db"
    log_path = folder / f"server-{port}.log"
    environment = os.environ | {
        "STEPUP_DB_PATH": str(db_path),
        "STEPUP_BCRYPT_ROUNDS": "4",
        "STEPUP_ORIGIN": base_url,
        **env,
    }
    with log_path.open("w") as log:  # a file, never a pipe nobody drains
        process = subprocess.Popen(
            [STEPUP, "serve", "--port", str(port), "--no-dev", *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=preexec,
        )
    served = Served(process, base_url, db_path, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, f"the server stopped: {served.log()}"
        assert time.monotonic() < deadline, f"the server did not start: {served.log()}"
        try:
            with httpx.Client(base_url=base_url, timeout=5.0) as probe:
                probe.get("/signin")
            return served
        except httpx.TransportError:
            time.sleep(0.05)


@contextmanager
def running(folder: Path, *args: str, **kwargs: Any) -> Iterator[Served]:
    served = start(folder, *args, **kwargs)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.terminate()
            try:
                served.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                served.kill()
