"""Settling an identity confirmation (the step-up stamp), shared by every way of confirming:
password and codes (``POST /auth/confirm``) and passkeys (``POST /auth/confirm/passkey``).

Whatever the factor, the attempt is settled in one transaction: the stamp and a new cookie, or
one more failure (the fifth signs the session out), and the audit entry. A failure is counted
only once the check has failed. Under that transaction's write lock the request's session
watch (``course_app/deps.py``) checks that the cookie is still the session's: a right answer
that lost a race to another request of the same session (a double click) is refused as
``superseded`` and counts as nothing.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Response

from course_app import ratelimit
from course_app.audit import Audit
from course_app.clock import to_iso
from course_app.cookies import set_session_cookie
from course_app.db import transaction
from course_app.errors import ApiError
from course_app.identity import check_password
from course_app.models import Session, User
from course_app.security.recency import window_ends
from course_app.sessions import (
    best_effort,
    delete_session,
    record_failed_confirmation,
    stamp_and_rotate,
)
from course_app.settings import Settings


@dataclass(frozen=True)
class Settled:
    """What one confirmation attempt left behind: the rotated cookie token and the stamp on
    success, else the failures in a row so far (the answer says how many attempts are left)."""

    token: str | None
    confirmed_at: datetime | None = None
    revoked: bool = False
    failures: int = 0


def settle_confirmation(
    db: sqlite3.Connection,
    audit: Audit,
    session: Session,
    method: str,
    ok: bool,
    settings: Settings,
) -> Settled:
    """Inside the caller's transaction: stamp and rotate the session when the ``method`` just
    checked was right; otherwise count the failure, and sign the session out once it reaches
    the limit. The audit entry goes in the same transaction."""
    if ok:
        token, stamp = stamp_and_rotate(db, session.id, method)
        audit.record(session.user_id, "confirmation_succeeded", method)
        return Settled(token, stamp)
    failures = record_failed_confirmation(db, session.id)
    revoked = failures >= settings.max_failed_confirmations
    if revoked:
        delete_session(db, session.id)
    signed_out = "; too many failures, session signed out" if revoked else ""
    audit.record(session.user_id, "confirmation_failed", method + signed_out)
    return Settled(None, revoked=revoked, failures=failures)


def confirm_scope(session_id: int) -> str:
    return f"confirm:{session_id}"


def confirm_password(
    db: sqlite3.Connection,
    audit: Audit,
    session: Session,
    user: User,
    password: str,
    settings: Settings,
    rounds: int,
) -> Settled:
    """bcrypt is slow on purpose, so it runs outside any transaction (holding the write lock
    through it would stall every other writer). While it runs the attempt holds a slot of the
    session's allowance, so a burst of guesses cannot overtake the limit; whether it was a
    failure is settled afterwards. ``rounds``: what a wrong password costs (see
    ``security/passwords.py``)."""
    with transaction(db):
        slot = ratelimit.take_slot(
            db,
            confirm_scope(session.id),
            failures_so_far(db, session.id),
            settings.max_failed_confirmations,
            "confirmations from this session at once",
        )
    try:
        ok = check_password(user, password, rounds)
        with transaction(db):
            ratelimit.release(db, (slot,))
            return settle_confirmation(db, audit, session, "password", ok, settings)
    finally:
        # Refused as superseded (nothing settled): the slot goes all the same.
        best_effort(db, "DELETE FROM attempts_in_flight WHERE id = ?", slot)


def failures_so_far(db: sqlite3.Connection, session_id: int) -> int:
    row = db.execute(
        "SELECT failed_confirmations FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def confirmation_answer(
    settled: Settled, response: Response, settings: Settings, failure: str = "Invalid credentials"
) -> dict[str, Any]:
    """After the transaction committed (so a failure stays counted): the new cookie and the
    window's end — the stamp as stored plus the window — or the 401 with ``attempts_left``
    before the session is signed out (the session row is already gone when it was revoked)."""
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
    expires_at = window_ends(settled.confirmed_at, settings.reauth_window_seconds)
    return {
        "message": "Identity confirmed.",
        "expires_in": settings.reauth_window_seconds,
        "expires_at": to_iso(expires_at) if expires_at else None,
    }
