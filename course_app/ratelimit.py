"""Limits on guessing: passwords per account and per client, second-factor codes per account;
and limits on mail: password-reset and sign-up requests per address and per client.

Every failure is a row in ``login_failures`` (``scope`` says whose: ``email:…``, ``ip:…`` or
``codes:<user id>``) and counts for ``failure_window_seconds``. A scope that has reached its
limit is refused with 429 and ``Retry-After`` — the seconds until its oldest counted failure
leaves the window — *before* anything is checked, so a locked account tells a guesser nothing,
not even whether the right password came along.

A password attempt is written down as a failure *before* bcrypt runs and taken back only when
it succeeds. Two consequences: concurrent guesses cannot overtake the limit (each one takes a
slot under the write lock), and an attempt that crashes halfway stays counted (fail closed).

A request that sends mail (``reset:…``, ``signup:…`` and their ``…-ip:`` twins) counts whether
or not it succeeds: the mail is the cost, and unknown addresses count like real ones.
"""

import math
import sqlite3
from datetime import datetime, timedelta

from fastapi import Request

from course_app.clock import from_iso, to_iso, utcnow
from course_app.db import transaction
from course_app.errors import ApiError
from course_app.settings import Settings

MAX_SCOPE_LENGTH = 330


class TooManyAttempts(ApiError):
    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(
            429,
            f"Too many {what}; try again in {retry_after} seconds",
            "rate_limited",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


def client_ip(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded
    (``course_app.proxies.TrustedProxies`` applies ``X-Forwarded-For`` before any route runs,
    only from ``STEPUP_TRUSTED_PROXIES``)."""
    return request.client.host if request.client else "unknown"


def account_scope(email: str) -> str:
    """Keyed by what was typed (normalised when it is an address), so unknown addresses are
    throttled exactly like real ones and the limit does not reveal which accounts exist."""
    return f"email:{email.strip().lower()}"[:MAX_SCOPE_LENGTH]


def client_scope(ip: str) -> str:
    return f"ip:{ip}"[:MAX_SCOPE_LENGTH]


def codes_scope(user_id: int) -> str:
    return f"codes:{user_id}"


def _window(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.failure_window_seconds)


def seconds_until_free(
    db: sqlite3.Connection, scope: str, limit: int, now: datetime, settings: Settings
) -> int | None:
    """How long ``scope`` stays at its limit, or None when it is below it.

    Failures stamped in the future (the clock went backwards) keep counting: fail closed,
    but never ask for more than one window.
    """
    window = _window(settings)
    rows = db.execute(
        "SELECT created_at FROM login_failures WHERE scope = ? AND created_at > ?"
        " ORDER BY created_at DESC LIMIT ?",
        (scope, to_iso(now - window), limit),
    ).fetchall()
    if len(rows) < limit:
        return None
    # Once the limit-th most recent failure leaves the window, one more attempt is allowed.
    frees_at = from_iso(rows[-1]["created_at"]) + window
    wait = math.ceil((frees_at - now).total_seconds())
    return max(1, min(wait, settings.failure_window_seconds))


def _record(db: sqlite3.Connection, scope: str, now: datetime) -> int:
    cur = db.execute(
        "INSERT INTO login_failures (scope, created_at) VALUES (?, ?)", (scope, to_iso(now))
    )
    return int(cur.lastrowid or 0)


def begin_login_attempt(
    db: sqlite3.Connection, email: str, ip: str, settings: Settings
) -> list[int]:
    """In a transaction of its own: refuse with 429 when the account or the client is at its
    limit; otherwise count this attempt as a failure up front and return the rows to take
    back (:func:`forgive_login`) if the password turns out right."""
    now = utcnow()
    limits = (
        (account_scope(email), settings.login_failures_per_account),
        (client_scope(ip), settings.login_failures_per_client),
    )
    with transaction(db):
        waits = [seconds_until_free(db, scope, limit, now, settings) for scope, limit in limits]
        if any(waits):
            raise TooManyAttempts(max(w for w in waits if w), "failed sign-in attempts")
        db.execute(
            "DELETE FROM login_failures WHERE created_at <= ?", (to_iso(now - _window(settings)),)
        )
        return [_record(db, scope, now) for scope, _ in limits]


def forgive_login(db: sqlite3.Connection, attempt: list[int], email: str) -> None:
    """Inside the caller's transaction: the password was right. This attempt is no failure,
    and the account starts again from zero (the client's earlier failures still count)."""
    db.executemany("DELETE FROM login_failures WHERE id = ?", [(row_id,) for row_id in attempt])
    db.execute("DELETE FROM login_failures WHERE scope = ?", (account_scope(email),))


def guard_codes(db: sqlite3.Connection, user_id: int, settings: Settings) -> None:
    """429 when this account has had too many wrong second-factor codes lately. Call inside
    the transaction that checks the code, so check and count cannot be raced."""
    wait = seconds_until_free(
        db, codes_scope(user_id), settings.code_failures_per_account, utcnow(), settings
    )
    if wait:
        raise TooManyAttempts(wait, "failed codes")


def record_code_failure(db: sqlite3.Connection, user_id: int) -> None:
    """Count a wrong TOTP or recovery code. Only time clears these: a later right code does not
    hand a guesser a fresh allowance."""
    _record(db, codes_scope(user_id), utcnow())


MAIL_REQUESTS = {"reset": "password-reset requests", "signup": "sign-up requests"}


def count_mail_request(
    db: sqlite3.Connection, kind: str, address: str, ip: str, settings: Settings, record: bool
) -> None:
    """429 when this address or this client asked for ``kind`` mail too often lately.
    With ``record``, count this request too: call it so inside the transaction that sends the
    mail, so a request that fails sends nothing and counts nothing. Without, it only checks
    (before a slow bcrypt run, say)."""
    now = utcnow()
    limits = (
        (f"{kind}:{address.strip().lower()}"[:MAX_SCOPE_LENGTH], settings.mail_per_address),
        (f"{kind}-ip:{ip}"[:MAX_SCOPE_LENGTH], settings.mail_per_client),
    )
    waits = [seconds_until_free(db, scope, limit, now, settings) for scope, limit in limits]
    if any(waits):
        raise TooManyAttempts(max(w for w in waits if w), MAIL_REQUESTS[kind])
    if record:
        for scope, _ in limits:
            _record(db, scope, now)
