"""Issue 11, the lower items on the edges of the app, each written as the attack: mail bombs
through password reset and sign-up, a forged X-Forwarded-For against a real server, DNS
rebinding (a foreign Host), and the API explorer outside dev mode."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_app.proxies import forwarded_client
from course_app.settings import Settings, parse_networks
from course_kit.lab import ORIGIN, PASSWORD, Lab, live_server

ALICE = "alice@example.com"
WINDOW = 900


def from_address(lab: Lab, ip: str) -> TestClient:
    client = TestClient(lab.app, base_url=ORIGIN, headers={"origin": ORIGIN}, client=(ip, 1))
    lab.clients.append(client)
    return client


def reset(client, email: str):
    return client.post("/auth/password-reset", json={"email": email})


def assert_throttled(r) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "rate_limited", r.text
    assert int(r.headers["retry-after"]) > 0


def test_25_reset_requests_send_3_mails(lab: Lab, clock: FrozenDateTimeFactory) -> None:
    lab.enroll(ALICE, PASSWORD)
    answers = [reset(from_address(lab, f"10.0.0.{n}"), ALICE).status_code for n in range(25)]
    assert answers == [202] * 3 + [429] * 22, answers
    assert len(lab.mail(ALICE)) == 3
    clock.tick(WINDOW + 1)
    assert reset(lab.client(), ALICE).status_code == 202


def test_unknown_addresses_are_limited_the_same_way(lab: Lab) -> None:
    lab.enroll(ALICE, PASSWORD)
    for email in (ALICE, "nobody@example.com"):
        answers = [reset(from_address(lab, f"10.0.1.{n}"), email).status_code for n in range(4)]
        assert answers == [202, 202, 202, 429], (email, answers)


def test_one_client_cannot_spray_resets_over_many_addresses(lab: Lab) -> None:
    client = from_address(lab, "198.51.100.7")
    answers = [reset(client, f"user{n}@example.com").status_code for n in range(21)]
    assert answers == [202] * 20 + [429], answers
    assert reset(from_address(lab, "198.51.100.8"), "user0@example.com").status_code == 202


def test_one_client_cannot_sign_up_without_end(lab: Lab) -> None:
    client = from_address(lab, "198.51.100.9")
    for n in range(20):
        r = client.post("/auth/signup", json={"email": f"v{n}@corp.test", "password": PASSWORD})
        assert r.status_code == 201, r.text
    r = client.post("/auth/signup", json={"email": "v20@corp.test", "password": PASSWORD})
    assert_throttled(r)
    assert lab.user("v20@corp.test") is None and lab.mail("v20@corp.test") == []


# X-Forwarded-For, against a real uvicorn ---------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Lab, str]]:
    with live_server(tmp_path) as running:
        yield running


def test_a_forged_forwarded_for_neither_resets_the_limit_nor_forges_the_log(
    server: tuple[Lab, str],
) -> None:
    lab, base_url = server
    with httpx.Client(base_url=base_url, headers={"origin": base_url}) as client:
        answers = [
            reset_with(client, f"user{n}@example.com", f"203.0.113.{n}").status_code
            for n in range(21)
        ]
        assert answers == [202] * 20 + [429], answers
        lab.enroll(ALICE, PASSWORD)
        r = client.post(
            "/auth/login",
            json={"email": ALICE, "password": PASSWORD},
            headers={"x-forwarded-for": "203.0.113.99"},
        )
        assert r.status_code == 200, r.text
    [ip] = [row["ip"] for row in lab.query("SELECT ip FROM audit_log WHERE event = 'signed_in'")]
    assert ip == "127.0.0.1"


def reset_with(client: httpx.Client, email: str, forwarded: str) -> httpx.Response:
    return client.post(
        "/auth/password-reset", json={"email": email}, headers={"x-forwarded-for": forwarded}
    )


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    with live_server(tmp_path, trusted_proxies="127.0.0.1") as (lab, base_url):
        lab.enroll(ALICE, PASSWORD)
        with httpx.Client(base_url=base_url, headers={"origin": base_url}) as client:
            r = client.post(
                "/auth/login",
                json={"email": ALICE, "password": PASSWORD},
                # the client claimed 6.6.6.6; our proxy saw 203.0.113.5
                headers={"x-forwarded-for": "6.6.6.6, 203.0.113.5"},
            )
            assert r.status_code == 200, r.text
        rows = lab.query("SELECT ip FROM audit_log WHERE event = 'signed_in'")
        assert [row["ip"] for row in rows] == ["203.0.113.5"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", "203.0.113.5", "127.0.0.1"),  # no trusted proxy: the peer
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.3", "203.0.113.5"),
        ("10.0.0.2", "not an address", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_forwarded_for_is_read_from_the_right(peer: str, forwarded: str, client: str) -> None:
    trusted = parse_networks("10.0.0.0/8")
    assert forwarded_client(peer, forwarded, trusted) == client


def test_a_typo_in_trusted_proxies_stops_the_start() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies="10.0.0.0/8, localhost")


# DNS rebinding and the API explorer ------------------------------------------------------------


def test_a_rebinding_page_cannot_read_the_dev_mailbox(server: tuple[Lab, str]) -> None:
    _, base_url = server
    port = base_url.rsplit(":", 1)[1]
    with httpx.Client(base_url=base_url) as client:
        for host in (f"rebind.evil.test:{port}", f"rebind.evil.test:{port}.", "localhost:1"):
            r = client.get("/dev/mail", headers={"host": host})
            assert r.status_code == 400, r.text
            assert r.json()["code"] == "invalid_host", r.text
            assert r.headers["x-frame-options"] == "DENY"
        assert client.get("/dev/mail").status_code == 200
        # A loopback address is not a rebinding: a page there is the app's own (the pages
        # tell that visitor which address to open), so the same port passes.
        r = client.get("/dev/mail", headers={"host": f"127.0.0.1:{port}"})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_the_api_explorer_is_off_outside_dev_mode(tmp_path: Path, path: str) -> None:
    production = Lab.start(folder=tmp_path / "prod", dev_mode=False)
    documented = Lab.start(folder=tmp_path / "docs", dev_mode=False, api_docs=True)
    try:
        assert production.client().get(path).status_code == 404
        assert documented.client().get(path).status_code == 200
    finally:
        production.close()
        documented.close()
