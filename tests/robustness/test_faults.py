"""Faults: a database that cannot be written at start, a disk that fills up while serving,
broken cookies, and a clock that jumps back. Each gets a clear JSON error (or a clear line at
start), nothing is half-written, and the server goes on serving."""

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory
from server_process import STEPUP, obey_file_modes, obey_file_owners

import course_app.deps
from course_app.app import create_app
from course_app.db import DatabaseUnavailable, connect
from course_app.security.totp import code_at
from course_app.sessions import COOKIE, PENDING_COOKIE
from course_kit.lab import PASSWORD, Lab, lab_settings

ALICE = "alice@example.com"
UNAVAILABLE = {
    "error": "The database is unavailable; nothing was changed",
    "code": "db_unavailable",
}
NEEDS_SESSION = {"error": "Authentication required", "code": "not_authenticated"}

# Starting the server ------------------------------------------------------------------------


def stepup_serve(
    db_path: Path, preexec: Callable[[], None] = obey_file_modes
) -> subprocess.CompletedProcess[str]:
    """``stepup serve`` as people run it; it must refuse to start, so it never binds a port."""
    env = os.environ | {"STEPUP_DB_PATH": str(db_path)}
    return subprocess.run(
        [STEPUP, "serve", "--port", "1", "--no-dev"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec,
    )


def assert_refuses_to_start(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 2, result
    assert "Cannot start: cannot use the database at" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.fixture
def existing_db(tmp_path: Path) -> Iterator[Path]:
    """A database file made by an earlier run (schema in place, WAL on)."""
    lab = Lab.start("solutions", folder=tmp_path)
    lab.signup(ALICE, PASSWORD)
    lab.close()
    path = Path(lab.settings.db_path)
    yield path
    for folder in (tmp_path, path.parent):
        folder.chmod(0o755)


def test_a_read_only_database_file_stops_the_start(existing_db: Path) -> None:
    existing_db.chmod(0o444)
    assert_refuses_to_start(stepup_serve(existing_db), "attempt to write a readonly database")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the -shm another owner")
def test_a_read_only_shm_that_cannot_be_repaired_is_named_at_start(tmp_path: Path) -> None:
    db = tmp_path / "course.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
        shm = Path(f"{db}-shm")
        conn.execute("SELECT * FROM t").fetchall()
        keep = shm.read_bytes()
    shm.write_bytes(keep)
    os.chown(shm, 65534, 65534)  # nobody's
    shm.chmod(0o444)
    result = stepup_serve(db, preexec=obey_file_owners)
    assert result.returncode == 2, result
    assert f"the file at fault is '{shm}'" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_a_read_only_folder_stops_the_start(existing_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    assert_refuses_to_start(stepup_serve(folder / "course.db"), "unable to open database file")


def test_a_folder_that_cannot_be_made_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = stepup_serve(tmp_path / "a-file" / "data" / "course.db")
    assert_refuses_to_start(result, "Not a directory")


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    lab = Lab.start("solutions", folder=tmp_path / "not" / "yet" / "there")
    lab.signup(ALICE, PASSWORD)
    assert lab.user(ALICE) is not None
    lab.close()


def test_the_app_factory_raises_the_same_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    settings = lab_settings(db_path=str(tmp_path / "a-file" / "course.db"))
    with pytest.raises(DatabaseUnavailable, match="cannot use the database at"):
        create_app(settings)


# A full disk while serving --------------------------------------------------------------------


class FailingCommit(sqlite3.Connection):
    """A connection whose ``COMMIT`` fails as it does when the disk fills up mid-write."""

    failing = frozenset({"COMMIT"})  # the statements (by their first word) that fail

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if sql.lstrip().split(" ", 1)[0].upper() in self.failing:
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


class NoWrites(FailingCommit):
    """A full disk met by any write, autocommitted ones too; reads work."""

    failing = frozenset({"INSERT", "UPDATE", "DELETE", "COMMIT"})


def pinned_size(path: str) -> sqlite3.Connection:
    """A real SQLite full disk: the file may not grow past the pages it has now."""
    conn = connect(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    return conn


def failing_commit(path: str, factory: type[FailingCommit] = FailingCommit) -> sqlite3.Connection:
    conn = sqlite3.connect(path, factory=factory, check_same_thread=False, timeout=10)
    conn.isolation_level = None
    conn.row_factory = sqlite3.Row
    return conn


def table_dump(lab: Lab) -> dict[str, list[tuple[object, ...]]]:
    names = [r[0] for r in lab.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: [tuple(r) for r in lab.query(f"SELECT * FROM {name}")] for name in names}


@pytest.mark.parametrize("fault", [pinned_size, failing_commit], ids=["no-pages", "commit"])
def test_a_full_disk_answers_503_writes_nothing_and_passes(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, fault: Callable[[str], sqlite3.Connection]
) -> None:
    alice = lab.person(ALICE, PASSWORD)
    assert alice.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    monkeypatch.setattr(course_app.deps, "connect", fault)

    refused = {}
    for n in range(200):  # sign-ups until one needs a page the disk no longer has
        before = table_dump(lab)
        r = lab.client().post(
            "/auth/signup", json={"email": f"user{n}@example.com", "password": PASSWORD}
        )
        if r.status_code == 503:
            refused = {"answer": r, "before": before, "email": f"user{n}@example.com"}
            break
        assert r.status_code == 201, r.text
    assert refused, "the disk never filled up"
    assert refused["answer"].json() == UNAVAILABLE
    assert refused["answer"].headers["retry-after"] == "5"
    assert table_dump(lab) == refused["before"], "a refused sign-up left rows behind"

    # Reads go on working while the disk is full; writes say why they cannot.
    assert alice.get("/me").status_code == 200
    r = alice.put("/me/email", json={"email": "alice@" + "x" * 60 + ".example"})
    assert (r.status_code, r.json()) == (503, UNAVAILABLE)
    assert lab.user(ALICE)["email"] == ALICE

    monkeypatch.undo()  # space again: the same requests now succeed
    r = lab.client().post("/auth/signup", json={"email": refused["email"], "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert alice.put("/me/email", json={"email": "alice@new.example"}).status_code == 200


def test_reads_that_refresh_a_stamp_still_answer_on_a_full_disk(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, clock: FrozenDateTimeFactory
) -> None:
    """Issue 18: a read a minute after the last one refreshes the session's (or the key's)
    last-seen stamp, and that write answered 503 on a full disk. The stamp can wait."""
    alice = lab.person(ALICE, PASSWORD)
    assert alice.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    org = alice.post("/orgs", json={"name": "Acme"}).json()["id"]
    key = alice.post(f"/orgs/{org}/api-keys", json={"name": "ci"}).json()["key"]
    bearer = {"authorization": f"Bearer {key}"}
    assert lab.client().get("/api/org", headers=bearer).status_code == 200
    monkeypatch.setattr(course_app.deps, "connect", partial(failing_commit, factory=NoWrites))
    clock.tick(120)
    assert alice.get("/me").status_code == 200
    assert lab.client().get("/api/org", headers=bearer).status_code == 200
    r = alice.post("/orgs", json={"name": "Full"})
    assert (r.status_code, r.json()) == (503, UNAVAILABLE)


def test_a_database_folder_removed_while_serving_answers_503(lab: Lab, tmp_path: Path) -> None:
    client = lab.client()
    db = Path(lab.settings.db_path)
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    db.parent.rename(moved)
    try:
        r = client.post("/auth/signup", json={"email": ALICE, "password": PASSWORD})
        assert (r.status_code, r.json()) == (503, UNAVAILABLE)
    finally:
        moved.rename(db.parent)
    r = client.post("/auth/signup", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 201, r.text


# Broken cookies ------------------------------------------------------------------------------

BROKEN = {
    "garbage": "not-a-token",
    "empty": "",
    "long": "A" * 4000,
    "quoted": '"abc;def"',
    "unicode": "\u00e9t\u00e9",
    "sql": "' OR 1=1 --",
    "nul": "abc\x00def",
}


@pytest.mark.parametrize("value", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_session_cookie_is_a_401(lab: Lab, value: str) -> None:
    lab.person(ALICE, PASSWORD)
    raw = f"{COOKIE}={value}; {PENDING_COOKIE}={value}".encode()
    client = lab.client()
    for method, path in [
        ("GET", "/me"),
        ("GET", "/me/security-log"),
        ("POST", "/auth/confirm"),
        ("PUT", "/me/email"),
        ("DELETE", "/me"),
    ]:
        r = client.request(method, path, json={"password": PASSWORD}, headers={"cookie": raw})
        assert (r.status_code, r.json()) == (401, NEEDS_SESSION), f"{method} {path}: {r.text}"
    r = client.post("/auth/login/2fa", json={"code": "123456"}, headers={"cookie": raw})
    assert r.status_code == 401 and r.json()["code"] == "no_pending_login", r.text
    r = client.get("/account", headers={"cookie": raw}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/signin")


def test_a_cookie_header_of_raw_bytes_is_a_401(lab: Lab) -> None:
    client = lab.client()
    raw = b"stepup_session=\xff\xfe\x80; other=\xc3("
    r = client.get("/me", headers={"cookie": raw})
    assert (r.status_code, r.json()) == (401, NEEDS_SESSION)


def test_a_token_from_another_app_is_a_401(lab: Lab, tmp_path: Path) -> None:
    other = Lab.start("solutions", folder=tmp_path / "other")
    token = other.person(ALICE, PASSWORD).cookies[COOKIE]
    lab.person(ALICE, PASSWORD)
    stranger = lab.client()
    stranger.cookies.set(COOKIE, token)
    assert stranger.get("/me").status_code == 401
    other.close()


# A clock that jumps backwards -------------------------------------------------------------------


@pytest.fixture
def alice(lab: Lab, clock: FrozenDateTimeFactory) -> TestClient:
    client = lab.person(ALICE, PASSWORD)
    assert client.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    return client


def test_a_confirmation_from_the_future_is_not_recent(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    """After the clock jumps back an hour the stamp lies in the future: we cannot tell how old
    it is, so the guard fails closed, and a fresh confirmation opens the window again."""
    clock.tick(-3600)
    assert alice.get("/me").json()["reauth"]["recent"] is False
    r = alice.put("/me/email", json={"email": "alice@new.example"})
    assert r.status_code == 403 and r.json()["code"] == "reauth_required", r.text
    assert alice.post("/auth/confirm", json={"password": PASSWORD}).status_code == 200
    assert alice.put("/me/email", json={"email": "alice@new.example"}).status_code == 200


def test_sessions_survive_a_jump_back_and_still_expire(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    clock.tick(-86_400)
    assert alice.get("/me").status_code == 200
    clock.tick(86_400 + 1801)  # back to the real time, then past the idle timeout
    assert alice.get("/me").status_code == 401


def test_throttling_fails_closed_across_a_jump_back(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    guesser = lab.client()
    for _ in range(5):
        r = guesser.post("/auth/login", json={"email": ALICE, "password": "wrong guess"})
        assert r.status_code == 401, r.text
    clock.tick(-3600)
    r = guesser.post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) == 900  # never more than one window
    clock.tick(3600 + 900)
    r = guesser.post("/auth/login", json={"email": ALICE, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_a_used_totp_step_stays_used_when_the_clock_goes_back(
    lab: Lab, alice: TestClient, clock: FrozenDateTimeFactory
) -> None:
    secret = alice.post("/me/2fa/setup").json()["secret"]
    code = code_at(secret, datetime.now(UTC))
    assert alice.post("/me/2fa/enable", json={"code": code}).status_code == 200
    clock.tick(-120)
    r = alice.post("/auth/confirm", json={"code": code_at(secret, datetime.now(UTC))})
    assert r.status_code == 401 and r.json()["code"] == "code_already_used", r.text
    clock.tick(120 + 30)
    r = alice.post("/auth/confirm", json={"code": code_at(secret, datetime.now(UTC))})
    assert r.status_code == 200, r.text
