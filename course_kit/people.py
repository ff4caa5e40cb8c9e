"""People for tests and notebooks, made with the app's own functions straight into its database.

A lab (``course_kit.lab``) signs them in over HTTP afterwards; the grader's sandbox calls these
same functions when the judge asks it to (the judge never opens the submission's database).
Each function takes the app's settings and opens a connection of its own.

    lab_settings()                      a throwaway database, fast bcrypt, the dev mailbox on
    enroll(settings, "a@example.com")   an account (verified unless told otherwise)
    enable_two_factor(settings, user)   two-factor sign-in on: returns the TOTP secret
    recovery_codes(settings, user)      a new batch of ten recovery codes (the old ones die)
    totp_code(secret)                   the code an authenticator shows now (the frozen clock's)
    set_role(settings, org, user, r)    an org membership with that role
"""

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course_app.accounts import create_user, normalize_email, send_verification
from course_app.clock import utcnow
from course_app.db import connect, transaction
from course_app.security.passwords import hash_password
from course_app.security.tokens import hash_token, new_recovery_codes
from course_app.security.totp import code_at, new_secret
from course_app.sessions import create_session, delete_session
from course_app.settings import Settings
from course_kit.kit import ORIGIN

PASSWORD = "correct horse"


def lab_settings(folder: Path | None = None, **overrides: Any) -> Settings:
    """Settings for a throwaway app: its own SQLite file, fast bcrypt, dev mailbox on."""
    folder = folder or Path(tempfile.mkdtemp(prefix="stepup-"))
    values: dict[str, Any] = {
        "db_path": str(folder / "course.db"),
        "bcrypt_rounds": 4,
        "dev_mode": True,
        "origin": ORIGIN,
    }
    return Settings(**(values | overrides))


@contextmanager
def _database(settings: Settings) -> Iterator[sqlite3.Connection]:
    db = connect(settings.db_path)
    try:
        with transaction(db):
            yield db
    finally:
        db.close()


def enroll(settings: Settings, email: str, password: str = PASSWORD, verified: bool = True) -> int:
    """An account; its id. An unverified one gets its verification link mailed, as at sign-up."""
    address = normalize_email(email)
    if address is None:
        raise ValueError(f"not an address: {email!r}")
    with _database(settings) as db:
        password_hash = hash_password(password, settings.bcrypt_rounds)
        user_id = create_user(db, address, password_hash, verified)
        if not verified:
            send_verification(db, user_id, address, settings.origin)
    return user_id


def enable_two_factor(settings: Settings, user_id: int) -> str:
    """Two-factor sign-in on for ``user_id``, as if they had scanned the QR code and entered a
    code; returns the TOTP secret (``totp_code(secret)`` gives the current code)."""
    secret = new_secret()
    with _database(settings) as db:
        db.execute(
            "UPDATE users SET totp_secret = ?, totp_enabled = 1, totp_last_step = NULL"
            " WHERE id = ?",
            (secret, user_id),
        )
    return secret


def recovery_codes(settings: Settings, user_id: int) -> list[str]:
    """Ten new single-use recovery codes for ``user_id``, as enabling two-factor gives them;
    the codes the account had before stop working."""
    codes = new_recovery_codes()
    with _database(settings) as db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.executemany(
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
            [(user_id, hash_token(code)) for code in codes],
        )
    return codes


def totp_code(secret: str) -> str:
    """The six digits an authenticator app shows now (the frozen clock's now, in a test)."""
    return code_at(secret, utcnow())


def set_role(settings: Settings, org_id: int, user_id: int, role: str) -> None:
    """``user_id`` holds ``role`` (owner, admin, member) in ``org_id``, joined or not before."""
    with _database(settings) as db:
        db.execute(
            "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)"
            " ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
            (org_id, user_id, role),
        )


def open_session(settings: Settings, user_id: int, confirmed: bool = False) -> tuple[str, int]:
    """A new session of ``user_id`` (stamped as just confirmed when ``confirmed``): its
    cookie token and its id."""
    with _database(settings) as db:
        token = create_session(db, user_id, "lab helper", "password" if confirmed else None)
        row = db.execute("SELECT id FROM sessions WHERE token_hash = ?", (hash_token(token),))
        return token, int(row.fetchone()["id"])


def end_session(settings: Settings, session_id: int) -> None:
    with _database(settings) as db:
        delete_session(db, session_id)
