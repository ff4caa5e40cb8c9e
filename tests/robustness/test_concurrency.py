"""Many clients at once against a real uvicorn server on loopback.

Sign-ins, confirmations, sensitive actions and session revocations race each other through
uvicorn's worker threads and SQLite's write lock. Whatever the interleaving: no 5xx, no
"database is locked" reaching a client, no lost or half-made update, and a revoked session
never succeeds again. Counts are small and every request has a timeout, so the module stays
within a few seconds.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import pairwise

import httpx
import pytest
from robustness_helpers import LOST_RACE, TIMEOUT, at_once, confirm, tabs, warm

from course_kit.lab import PASSWORD, Lab, live_server

WORKERS = 16
PEOPLE = 6


class Server:
    """The live app plus a record of every answer it gave, checked after each test."""

    def __init__(self, lab: Lab, base_url: str) -> None:
        self.lab = lab
        self.base_url = base_url
        self.answers: list[httpx.Response] = []
        self.lock = threading.Lock()
        self.clients: list[httpx.Client] = []

    def browser(self) -> httpx.Client:
        client = httpx.Client(
            base_url=self.base_url,
            headers={"origin": self.base_url, "sec-fetch-site": "same-origin"},
            timeout=TIMEOUT,
            event_hooks={"response": [self._keep]},
        )
        self.clients.append(client)
        return client

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        with self.lock:
            self.answers.append(response)

    def signed_in(self, email: str) -> httpx.Client:
        client = self.browser()
        r = client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return client

    def assert_no_server_trouble(self) -> None:
        for r in self.answers:
            assert r.status_code < 500, f"{r.request.method} {r.request.url}: {r.text}"
            assert "locked" not in r.text.lower(), r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("live")) as (lab, base_url):
        live = Server(lab, base_url)
        with ThreadPoolExecutor(PEOPLE) as pool:
            list(pool.map(lambda n: lab.signup(f"p{n}@example.com", PASSWORD), range(PEOPLE)))
        yield live
        for client in live.clients:
            client.close()


@pytest.fixture
def checked(server: Server) -> Iterator[Server]:
    server.answers.clear()
    yield server
    server.assert_no_server_trouble()


def test_a_crowd_signs_in_confirms_and_acts_at_once(checked: Server) -> None:
    emails = [f"p{n}@example.com" for n in range(PEOPLE)]
    sessions = at_once([partial(checked.signed_in, e) for e in emails for _ in range(3)])
    assert all(r.status_code == 200 for r in at_once([partial(confirm, c) for c in sessions]))

    orgs = at_once([partial(c.post, "/orgs", json={"name": "Load"}) for c in sessions])
    jobs: list[Callable[[], httpx.Response]] = []
    for client, org in zip(sessions, orgs, strict=True):
        jobs += [
            partial(client.post, f"/orgs/{org.json()['id']}/api-keys", json={"name": "k"}),
            partial(client.get, "/me/security-log"),
            partial(client.get, "/me/sessions"),
        ]
    answers = at_once(jobs)
    assert Counter(r.status_code for r in answers) == {201: len(sessions), 200: 2 * len(sessions)}
    keys = checked.lab.query("SELECT COUNT(*) FROM api_keys")[0][0]
    created = checked.lab.query("SELECT COUNT(*) FROM audit_log WHERE event = 'api_key_created'")
    assert keys == created[0][0] == len(sessions)


def test_two_email_changes_at_once_leave_one_consistent_account(checked: Server) -> None:
    email = "p0@example.com"
    a, b = checked.signed_in(email), checked.signed_in(email)
    assert confirm(a).status_code == confirm(b).status_code == 200
    ra, rb = at_once(
        [
            lambda: a.put("/me/email", json={"email": "p0@a.example"}),
            lambda: b.put("/me/email", json={"email": "p0@b.example"}),
        ]
    )
    # Either both went through one after the other, or the second found the address changed
    # under its write lock and did nothing (409 superseded); never two that both read p0@.
    answers = sorted([ra, rb], key=lambda r: r.status_code)
    assert answers[0].status_code == 200, answers[0].text
    assert answers[1].status_code in (200, 409), answers[1].text
    if answers[1].status_code == 409:
        assert answers[1].json()["code"] == "superseded", answers[1].text
    [user] = checked.lab.query("SELECT * FROM users WHERE email LIKE 'p0@%'")
    assert user["email"] in ("p0@a.example", "p0@b.example")
    assert user["email_verified"] == 0
    # Exactly one live verification link, and it is for the address the account has now.
    links = checked.lab.query(
        "SELECT email FROM email_tokens WHERE user_id = ? AND purpose = 'verify_email'"
        " AND used_at IS NULL",
        user["id"],
    )
    assert [row["email"] for row in links] == [user["email"]]
    # Each change's entry names the address it wrote, and its notice went to the address
    # it replaced: the chain p0@example.com → … → the address the account has now.
    entries = checked.lab.query(
        "SELECT detail FROM audit_log WHERE user_id = ? AND event = 'email_changed' ORDER BY id",
        user["id"],
    )
    chain = [email] + [row["detail"].removeprefix("changed to ") for row in entries]
    assert len(chain) == 1 + sum(r.status_code == 200 for r in answers)
    assert chain[-1] == user["email"]
    for old, new in pairwise(chain):
        notices = [m["body"] for m in checked.lab.mail(old) if "was changed to" in m["body"]]
        assert any(new in body for body in notices), (old, new, notices)


def test_a_revoked_session_never_succeeds_afterwards(checked: Server) -> None:
    email = "p1@example.com"
    victim, owner = checked.signed_in(email), checked.signed_in(email)
    assert confirm(owner).status_code == confirm(victim).status_code == 200
    victim_id = next(s["id"] for s in victim.get("/me/sessions").json() if s["current"])
    revoked = threading.Event()
    after: list[int] = []

    def hammer() -> None:
        for _ in range(40):
            started_after = revoked.is_set()
            r = victim.get("/me") if len(after) % 2 else victim.get("/me/security-log")
            if started_after:
                after.append(r.status_code)

    def revoke() -> httpx.Response:
        r = owner.delete(f"/me/sessions/{victim_id}")
        revoked.set()
        return r

    results = at_once([hammer, hammer, hammer, revoke])
    assert results[-1].status_code == 204, results[-1].text
    assert after, "no request started after the revocation"
    assert set(after) == {401}, Counter(after)
    assert victim.get("/me").status_code == 401


def test_a_burst_of_wrong_guesses_cannot_outrun_the_session_limit(checked: Server) -> None:
    """Twelve wrong passwords at once on one session. Each check holds one of the session's
    five slots while bcrypt runs, so at most five are ever checked (the rest: 429, or the
    session is already gone); the fifth failure signs the session out. No guess is free."""
    client = checked.signed_in("p2@example.com")
    warm(client, 12)
    answers = at_once([lambda: confirm(client, "wrong guess")] * 12)
    codes = Counter(r.json()["code"] for r in answers)
    allowed = {"invalid_credentials", "session_revoked", "not_authenticated", "rate_limited"}
    assert set(codes) <= allowed, codes
    assert codes["invalid_credentials"] <= 4, codes
    assert codes["session_revoked"] >= 1, codes
    assert sum(codes.values()) == 12
    assert client.get("/me").status_code == 401


def test_a_double_click_on_confirm_leaves_one_working_cookie(checked: Server) -> None:
    """The first right answer rotates the cookie; the others lost the race and are refused as
    superseded (or, arriving after the cookie was replaced, as unknown): nothing counted."""
    client = checked.signed_in("p3@example.com")
    with tabs(client, checked.browser, 4) as four:
        answers = at_once([partial(confirm, tab) for tab in four])
    assert sorted(r.status_code for r in answers)[0] == 200, [r.text for r in answers]
    lost = {(r.status_code, r.json()["code"]) for r in answers if r.status_code != 200}
    assert len(answers) - len([r for r in answers if r.status_code != 200]) == 1
    assert lost <= LOST_RACE, lost
    [ok] = [r for r in answers if r.status_code == 200]
    fresh = checked.browser()
    fresh.cookies.update(ok.cookies)
    assert fresh.get("/me").json()["reauth"]["recent"] is True


def test_a_burst_of_wrong_sign_ins_cannot_outrun_the_account_limit(checked: Server) -> None:
    guesses = [
        lambda: checked.browser().post(
            "/auth/login", json={"email": "p4@example.com", "password": "wrong guess"}
        )
    ] * 12
    answers = at_once(guesses)
    assert Counter(r.status_code for r in answers) == {401: 5, 429: 7}
    r = checked.browser().post(
        "/auth/login", json={"email": "p4@example.com", "password": PASSWORD}
    )
    assert r.status_code == 429, r.text


def test_a_password_change_racing_sign_ins_leaves_no_old_password_session(
    checked: Server,
) -> None:
    """A sign-in checks the password (bcrypt) before its transaction; a change that commits in
    between must still win: no session made with the old password outlives the change."""
    email = "p5@example.com"
    changer = checked.signed_in(email)
    assert confirm(changer).status_code == 200
    jobs: list[Callable[[], httpx.Response]] = [
        partial(changer.put, "/me/password", json={"new_password": "new password 1"})
    ]
    logins = [checked.browser() for _ in range(4)]  # under the 5 failures that lock an account
    jobs += [
        partial(c.post, "/auth/login", json={"email": email, "password": PASSWORD}) for c in logins
    ]
    answers = at_once(jobs)
    assert answers[0].status_code == 200, answers[0].text
    assert {r.status_code for r in answers[1:]} <= {200, 401}
    assert changer.get("/me").status_code == 200
    assert [c.get("/me").status_code for c in logins] == [401] * len(logins)
    rows = checked.lab.query(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?", email
    )
    assert len(rows) == 1
    r = checked.browser().post("/auth/login", json={"email": email, "password": "new password 1"})
    assert r.status_code == 200, r.text


def test_the_server_is_still_well(checked: Server) -> None:
    r = checked.browser().get("/me")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert checked.lab.query("PRAGMA integrity_check")[0][0] == "ok"


def test_forty_right_sign_ins_from_one_address_all_succeed(checked: Server) -> None:
    """A class behind one address signs in at once. Attempts used to count as failures until
    bcrypt said otherwise, so from the 31st on they got 429 with Retry-After: 900."""
    emails = [f"class{n}@example.com" for n in range(40)]
    for email in emails:
        checked.lab.enroll(email, PASSWORD)
    browsers = [checked.browser() for _ in emails]
    answers = at_once(
        [
            partial(b.post, "/auth/login", json={"email": e, "password": PASSWORD})
            for b, e in zip(browsers, emails, strict=True)
        ]
    )
    assert Counter(r.status_code for r in answers) == {200: len(emails)}, [
        r.text for r in answers if r.status_code != 200
    ]


def test_a_removed_member_removes_nobody_afterwards(checked: Server) -> None:
    """Alice removes Bob while Bob removes Carol, eight rounds (a Bob and a Carol each: every
    address may be invited three times a window). Bob's removal used to commit after his own
    (6 rounds in 10). Now whenever both succeed, Bob's came first."""
    lab = checked.lab
    alice = "alice.race@example.com"
    lab.enroll(alice, PASSWORD)
    owner = checked.signed_in(alice)
    for n in range(8):
        bob, carol = f"bob{n}.race@example.com", f"carol{n}.race@example.com"
        ids = {e: lab.enroll(e, PASSWORD) for e in (bob, carol)}
        admin = checked.signed_in(bob)
        org = owner.post("/orgs", json={"name": "Race"}).json()["id"]
        lab.add_member(owner, org, bob, "admin")
        lab.add_member(owner, org, carol, "member")
        assert confirm(owner).status_code == confirm(admin).status_code == 200
        a, b = at_once(
            [
                partial(owner.delete, f"/orgs/{org}/members/{ids[bob]}"),
                partial(admin.delete, f"/orgs/{org}/members/{ids[carol]}"),
            ]
        )
        assert a.status_code == 204, a.text
        assert b.status_code in (204, 404), b.text  # 404: Bob was no member by then
        # Bob's log has both: his removal of Carol, and Alice's of him.
        removals = {
            row["detail"].split(": ")[1].split(" ")[0]: row["id"]
            for row in lab.query(
                "SELECT id, detail FROM audit_log WHERE event = 'member_removed' AND user_id = ?",
                ids[bob],
            )
        }
        still = lab.query(
            "SELECT 1 FROM memberships WHERE org_id = ? AND user_id = ?", org, ids[carol]
        )
        if b.status_code == 204:
            assert removals[carol] < removals[bob], removals
        else:
            assert carol not in removals and still, removals
