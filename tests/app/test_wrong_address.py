"""Opening the app at another address than its origin (``127.0.0.1`` for ``localhost``,
another port): the server warns at start, the pages say where to go, and a refused form
names the address to open."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from course_kit.cli import origin_warnings
from course_kit.lab import ORIGIN, Lab


@pytest.mark.parametrize(
    ("origin", "port", "expected"),
    [
        ("http://localhost:8000", 8000, []),
        ("https://lab.example.edu", 8000, []),  # behind a proxy: another port on purpose
        ("http://localhost:9000", 8000, ["port 8000", "--port 9000"]),
        ("http://localhost", 8000, ["port 80", "--port 80"]),
        ("http://127.0.0.1:8000", 8000, ["passkeys need a host name"]),
    ],
)
def test_origin_warnings(origin: str, port: int, expected: list[str]) -> None:
    text = " ".join(origin_warnings(origin, port))
    assert all(part in text for part in expected), text
    assert bool(text) == bool(expected), text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_warns_when_the_origin_has_another_port(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {
        "STEPUP_ORIGIN": "http://localhost:9",
        "STEPUP_DB_PATH": str(tmp_path / "course.db"),
        "STEPUP_BCRYPT_ROUNDS": "4",
    }
    command = [sys.executable, "-m", "course_kit.cli", "serve", "--port", str(port), "--no-dev"]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    watchdog = threading.Timer(60, server.kill)  # a server that never speaks fails, not hangs
    watchdog.start()
    try:
        assert server.stdout is not None
        for line in server.stdout:  # until uvicorn says it listens
            lines.append(line)
            if "Uvicorn running on" in line or len(lines) > 40:
                break
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=10)
    output = "".join(lines)
    assert (
        f"Warning: STEPUP_ORIGIN is http://localhost:9 but this server listens on port {port}"
        in output
    )
    assert "open http://localhost:9 in your browser" in output, output


def test_a_page_opened_at_another_address_says_which_to_open(lab: Lab) -> None:
    wrong = TestClient(lab.app, base_url="http://127.0.0.1:8000")
    r = wrong.get("/signin")
    assert r.status_code == 200, r.text
    assert 'id="origin-warning"' in r.text
    assert f'href="{ORIGIN}/signin"' in r.text
    right = lab.client().get("/signin")
    assert 'id="origin-warning"' not in right.text


def test_a_form_sent_from_another_address_names_the_one_to_open(lab: Lab) -> None:
    wrong = TestClient(lab.app, base_url="http://127.0.0.1:8000")
    r = wrong.post(
        "/auth/login",
        json={"email": "a@example.com", "password": "whatever1"},
        headers={"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-site"},
    )
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["code"] == "cross_site" and body["expected_origin"] == ORIGIN, body
    assert "open at http://127.0.0.1:8000" in body["error"]
    assert f"Open {ORIGIN} and try again" in body["error"]
