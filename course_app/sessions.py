"""Server-side sessions: the cookie holds a random token, the table holds its SHA-256."""

import logging
import sqlite3
from datetime import datetime, timedelta

from course_app.clock import now_iso, to_iso, utcnow
from course_app.models import Session
from course_app.security.tokens import hash_token, new_token
from course_app.settings import Settings

COOKIE = "stepup_session"
PENDING_COOKIE = "stepup_pending_login"
PENDING_TTL = timedelta(minutes=5)
TOUCH_EVERY = timedelta(seconds=60)

log = logging.getLogger("course_app.sessions")


def best_effort(db: sqlite3.Connection, sql: str, *params: object) -> None:
    """A bookkeeping write that a read can do without (a last-seen stamp, sweeping an expired
    row): on a full or read-only disk it is skipped and logged, and the read still answers."""
    try:
        db.execute(sql, params)
    except sqlite3.OperationalError as exc:
        log.warning("skipped a bookkeeping write (%s): %s", sql.split(" WHERE")[0], exc)


def create_session(
    db: sqlite3.Connection, user_id: int, user_agent: str, confirmed_method: str | None
) -> str:
    """Insert a session and return its cookie token. ``confirmed_method`` stamps it at once
    (used when a sign-in counts as a recent authentication)."""
    token = new_token()
    now = now_iso()
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, confirmed_at,"
        " confirmed_method, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            hash_token(token),
            user_id,
            now,
            now,
            now if confirmed_method else None,
            confirmed_method,
            user_agent[:300],
        ),
    )
    return token


def end_previous_session(db: sqlite3.Connection, token: str | None) -> None:
    """A sign-in in a browser that still holds a session cookie: that session ends here, so
    the browser carries one session at a time (ASVS 7.2.4), whoever it belonged to."""
    if token:
        db.execute("DELETE FROM sessions WHERE token_hash = ?", (hash_token(token),))


def load_session(db: sqlite3.Connection, token: str, settings: Settings) -> Session | None:
    """The live session for a cookie token, or None (unknown, idle too long, or too old).
    Expired sessions are deleted on sight."""
    row = db.execute("SELECT * FROM sessions WHERE token_hash = ?", (hash_token(token),)).fetchone()
    if row is None:
        return None
    session = Session.from_row(row)
    now = utcnow()
    if is_expired(session, now, settings):
        best_effort(db, "DELETE FROM sessions WHERE id = ?", session.id)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        # Writing on every request would serialise all readers behind SQLite's write lock.
        best_effort(
            db, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", to_iso(now), session.id
        )
    return session


def is_expired(session: Session, now: datetime, settings: Settings) -> bool:
    idle = now - session.last_seen_at > timedelta(seconds=settings.session_idle_seconds)
    too_old = now - session.created_at > timedelta(seconds=settings.session_max_seconds)
    return idle or too_old


def rotate_token(db: sqlite3.Connection, session_id: int) -> str:
    """Swap the session's token (the old cookie dies at once); the stamp stays as it was."""
    token = new_token()
    db.execute("UPDATE sessions SET token_hash = ? WHERE id = ?", (hash_token(token), session_id))
    return token


def stamp_and_rotate(db: sqlite3.Connection, session_id: int, method: str) -> tuple[str, datetime]:
    """Record a successful confirmation and swap the token; returns the token and the stamp
    (the confirmation window is counted from the stamp as stored, not from a later now)."""
    stamp = utcnow()
    db.execute(
        "UPDATE sessions SET confirmed_at = ?, confirmed_method = ?, failed_confirmations = 0"
        " WHERE id = ?",
        (to_iso(stamp), method, session_id),
    )
    return rotate_token(db, session_id), stamp


def record_failed_confirmation(db: sqlite3.Connection, session_id: int) -> int:
    """Count a failed confirmation and return how many this session has had in a row."""
    row = db.execute(
        "UPDATE sessions SET failed_confirmations = failed_confirmations + 1 WHERE id = ?"
        " RETURNING failed_confirmations",
        (session_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def delete_session(db: sqlite3.Connection, session_id: int) -> None:
    db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def delete_other_sessions(
    db: sqlite3.Connection, user_id: int, keep_session_id: int | None = None
) -> int:
    """Sign the user out everywhere but ``keep_session_id`` (everywhere when None), two-factor
    sign-ins still waiting for their code included: their password step is no proof any more."""
    db.execute("DELETE FROM pending_logins WHERE user_id = ?", (user_id,))
    cur = db.execute(
        "DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?", (user_id, keep_session_id)
    )
    return cur.rowcount
