"""Start ``bench.target`` as a subprocess on a free loopback port, and people to use it."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx

PASSWORD = "correct horse"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Target(NamedTuple):
    url: str  # http://localhost:PORT
    pid: int
    db_path: str

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, all threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def target(rounds: int = 4, bare: bool = False, db_path: Path | None = None) -> Iterator[Target]:
    """The app in a process of its own, on a fresh database (or on ``db_path``)."""
    port = free_port()
    db = db_path or Path(tempfile.mkdtemp(prefix="stepup-bench-")) / "bench.db"
    command = [sys.executable, "-m", "bench.target", str(port), str(db)]
    command += ["--rounds", str(rounds)] + (["--bare"] if bare else [])
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(command, cwd=root, env=os.environ | {"PYTHONPATH": str(root)})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bench.target did not start") from None
                time.sleep(0.05)
        yield Target(f"http://localhost:{port}", process.pid, str(db))
    finally:
        process.terminate()
        process.wait(timeout=10)


def browser(base_url: str, local_address: str = "127.0.0.1") -> httpx.Client:
    """Loopback over IPv4 (``localhost`` may try ``::1`` first), with the app's own Origin.
    Another ``local_address`` in 127.0.0.0/8 is another client to the app's limits."""
    transport = httpx.HTTPTransport(local_address=local_address)
    return httpx.Client(
        base_url=base_url.replace("localhost", "127.0.0.1"),
        headers={"origin": base_url},
        transport=transport,
        timeout=60,
    )


def person(base_url: str, email: str, confirmed: bool = True) -> httpx.Client:
    """Sign up and sign in (and confirm); the client carries the session cookie."""
    client = browser(base_url)
    for path in ("/auth/signup", "/auth/login"):
        r = client.post(path, json={"email": email, "password": PASSWORD})
        r.raise_for_status()
    if confirmed:
        client.post("/auth/confirm", json={"password": PASSWORD}).raise_for_status()
    return client
