"""Settling an identity confirmation (the step-up stamp), shared by every way of confirming:
password and codes (``POST /auth/confirm``) and passkeys (``POST /auth/confirm/passkey``)."""

import sqlite3
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from course_app.clock import to_iso, utcnow
from course_app.cookies import set_session_cookie
from course_app.db import transaction
from course_app.errors import ApiError, NotAuthenticated
from course_app.identity import check_password
from course_app.models import Session, User
from course_app.security.recency import window_ends
from course_app.security.tokens import hash_token
from course_app.sessions import COOKIE, delete_session, record_failed_confirmation, stamp_and_rotate
from course_app.settings import Settings


def still_current(db: sqlite3.Connection, session_id: int, request: Request) -> bool:
    """The cookie this request came with still belongs to the session (no other request
    rotated or revoked it since the guard read it)."""
    token = request.cookies.get(COOKIE, "")
    row = db.execute(
        "SELECT 1 FROM sessions WHERE id = ? AND token_hash = ?", (session_id, hash_token(token))
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class Settled:
    """What one confirmation attempt left behind: the rotated cookie token on success, else
    the failures in a row so far (the answer says how many attempts are left)."""

    token: str | None
    revoked: bool = False
    failures: int = 0


def settle_confirmation(
    db: sqlite3.Connection, session_id: int, method: str | None, settings: Settings
) -> Settled:
    """Inside the caller's transaction: stamp and rotate the session when ``method`` (the
    factor that was just checked) is given; otherwise count the failure, and sign the session
    out once it reaches the limit."""
    if method is not None:
        return Settled(stamp_and_rotate(db, session_id, method))
    failures = record_failed_confirmation(db, session_id)
    if failures >= settings.max_failed_confirmations:
        delete_session(db, session_id)
        return Settled(None, revoked=True)
    return Settled(None, failures=failures)


def confirm_password(
    db: sqlite3.Connection,
    session: Session,
    user: User,
    password: str,
    request: Request,
    settings: Settings,
) -> Settled:
    """bcrypt is slow on purpose, so it runs outside any transaction (holding the write lock
    through it would stall every other writer). The attempt is counted as a failure *before*
    bcrypt runs, so a burst of guesses cannot outrun the limit; success then resets the count."""
    with transaction(db):
        if not still_current(db, session.id, request):
            raise NotAuthenticated()
        attempt = record_failed_confirmation(db, session.id)
        if attempt > settings.max_failed_confirmations:
            delete_session(db, session.id)
            return Settled(None, revoked=True)
    ok = check_password(user, password, settings.bcrypt_rounds)
    with transaction(db):
        if not still_current(db, session.id, request):
            raise NotAuthenticated()
        row = db.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,)).fetchone()
        if ok and row is not None and row["password_hash"] == user.password_hash:
            return Settled(stamp_and_rotate(db, session.id, "password"))
        if attempt >= settings.max_failed_confirmations:
            delete_session(db, session.id)
            return Settled(None, revoked=True)
    return Settled(None, failures=attempt)


def failures_so_far(db: sqlite3.Connection, session_id: int) -> int:
    row = db.execute(
        "SELECT failed_confirmations FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def confirmation_answer(
    settled: Settled, response: Response, settings: Settings, failure: str = "Invalid credentials"
) -> dict[str, Any]:
    """After the transaction committed (so a failure stays counted): the new cookie and the
    window's end, or the 401 with ``attempts_left`` before the session is signed out (the
    session row is already gone when it was revoked)."""
    if settled.token is None:
        if settled.revoked:
            raise ApiError(
                401,
                "Too many failed confirmations: this session has been signed out",
                "session_revoked",
            )
        left = settings.max_failed_confirmations - settled.failures
        raise ApiError(401, failure, "invalid_credentials", attempts_left=left)
    set_session_cookie(response, settled.token, settings)
    expires_at = window_ends(utcnow(), settings.reauth_window_seconds)
    return {
        "message": "Identity confirmed.",
        "expires_in": settings.reauth_window_seconds,
        "expires_at": to_iso(expires_at) if expires_at else None,
    }
