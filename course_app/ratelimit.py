"""Limits on guessing: passwords per account (from one client, and from all clients together)
and per client, second-factor codes per account, confirmations per session; and limits on
mail: password-reset, sign-up and invitation mail per address and per sender.

Every failure is a row in ``login_failures`` (``scope`` says whose: ``email:…``,
``email:…|ip:…``, ``ip:…`` or ``codes:<user id>``) and counts for ``failure_window_seconds``.
A scope that has reached its limit is refused with 429 and ``Retry-After`` — the seconds until
its oldest counted failure leaves the window — *before* anything is checked, so a locked
account tells a guesser nothing, not even whether the right password came along.

A password check (bcrypt, slow on purpose, outside any transaction) holds a slot in
``attempts_in_flight`` while it runs. Slots count against an account's allowance, so a burst
of guesses cannot overtake the limit; when only slots fill it, the answer is 429 with
``Retry-After: 1`` (the checks under way end within a second or so). A check becomes a
failure only once it has failed, in the transaction that settles it: a right password never
counts, however many arrive at once. A slot older than a minute was cut off by a crash (whose
guess never got an answer) and is ignored.

A request that sends mail (``reset:…``, ``signup:…``, ``invite:…`` and their per-sender
twins) counts whether or not it succeeds: the mail is the cost, and unknown addresses count
like real ones.

Clients are counted by :func:`client_key`: IPv6 per /64 in canonical form (one customer's
network holds a /64 at least), IPv4-mapped IPv6 as the IPv4 address it maps.
"""

import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv6Address, IPv6Network, ip_address

from fastapi import Request

from course_app.clock import from_iso, to_iso, utcnow
from course_app.db import transaction
from course_app.errors import ApiError
from course_app.settings import Settings

MAX_SCOPE_LENGTH = 330
IN_FLIGHT_TTL = timedelta(seconds=60)


class TooManyAttempts(ApiError):
    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(
            429,
            f"Too many {what}; try again in {retry_after} second{'s' if retry_after != 1 else ''}",
            "rate_limited",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


def client_key(request: Request) -> str:
    """The client the per-client limits count: the peer's address, or the one a trusted proxy
    forwarded (``course_app.proxies.TrustedProxies`` applies ``X-Forwarded-For`` before any
    route runs, only from ``STEPUP_TRUSTED_PROXIES``), normalised by :func:`normalize_client`."""
    return normalize_client(request.client.host if request.client else "unknown")


def normalize_client(address: str) -> str:
    """One spelling per client: ``2001:DB8::1`` and ``2001:db8:0::7`` are both
    ``2001:db8::/64``, ``::ffff:192.0.2.1`` is ``192.0.2.1``; anything else as it is."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address.strip().lower()
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        # From the integer, so a zone (fe80::1%eth0) cannot split one client in two.
        return str(IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def account_scope(email: str) -> str:
    """Keyed by what was typed (normalised when it is an address), so unknown addresses are
    throttled exactly like real ones and the limit does not reveal which accounts exist."""
    return f"email:{email.strip().lower()}"[:MAX_SCOPE_LENGTH]


def account_client_scope(email: str, client: str) -> str:
    """One client guessing one account: the lock a guesser can put on an account holds them
    alone, not the account's owner elsewhere."""
    return f"{account_scope(email)}|{client_scope(client)}"[:MAX_SCOPE_LENGTH]


def client_scope(client: str) -> str:
    return f"ip:{client}"[:MAX_SCOPE_LENGTH]


def codes_scope(user_id: int) -> str:
    return f"codes:{user_id}"


def _window(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.failure_window_seconds)


def _failures(
    db: sqlite3.Connection, scope: str, limit: int, now: datetime, settings: Settings
) -> list[sqlite3.Row]:
    """The ``limit`` most recent failures of ``scope`` in the window, newest first."""
    return db.execute(
        "SELECT created_at FROM login_failures WHERE scope = ? AND created_at > ?"
        " ORDER BY created_at DESC LIMIT ?",
        (scope, to_iso(now - _window(settings)), limit),
    ).fetchall()


def seconds_until_free(
    db: sqlite3.Connection, scope: str, limit: int, now: datetime, settings: Settings
) -> int | None:
    """How long ``scope`` stays at its limit, or None when it is below it.

    Failures stamped in the future (the clock went backwards) keep counting: fail closed,
    but never ask for more than one window.
    """
    rows = _failures(db, scope, limit, now, settings)
    if len(rows) < limit:
        return None
    # Once the limit-th most recent failure leaves the window, one more attempt is allowed.
    frees_at = from_iso(rows[-1]["created_at"]) + _window(settings)
    wait = math.ceil((frees_at - now).total_seconds())
    return max(1, min(wait, settings.failure_window_seconds))


def _record(db: sqlite3.Connection, scope: str, now: datetime) -> int:
    cur = db.execute(
        "INSERT INTO login_failures (scope, created_at) VALUES (?, ?)", (scope, to_iso(now))
    )
    return int(cur.lastrowid or 0)


def take_slot(db: sqlite3.Connection, scope: str, failures: int, limit: int, what: str) -> int:
    """Inside a transaction: hold a slot for one check of ``scope`` and return its row, or
    refuse (429, ``Retry-After: 1``) when ``failures`` so far plus the checks of ``scope``
    still under way fill ``limit``."""
    now = utcnow()
    running = db.execute(
        "SELECT COUNT(*) FROM attempts_in_flight WHERE scope = ? AND started_at > ?",
        (scope, to_iso(now - IN_FLIGHT_TTL)),
    ).fetchone()[0]
    if failures + running >= limit:
        raise TooManyAttempts(1, what)
    cur = db.execute(
        "INSERT INTO attempts_in_flight (scope, started_at) VALUES (?, ?)", (scope, to_iso(now))
    )
    return int(cur.lastrowid or 0)


def release(db: sqlite3.Connection, slots: tuple[int, ...]) -> None:
    """The checks are over (in the transaction that settles them, or on the way out)."""
    db.executemany("DELETE FROM attempts_in_flight WHERE id = ?", [(slot,) for slot in slots])


@dataclass(frozen=True)
class LoginAttempt:
    """A sign-in whose password is being checked: its slots, and where a failure counts."""

    slots: tuple[int, ...]
    account: str  # all clients together
    account_client: str  # this client and this account
    client: str


def begin_login_attempt(
    db: sqlite3.Connection, email: str, client: str, settings: Settings
) -> LoginAttempt:
    """In a transaction of its own: refuse with 429 when the account (from this client, or
    from everywhere) or the client is at its limit, or when the account's checks already
    under way fill what is left of its allowance; otherwise hold a slot for this check."""
    now = utcnow()
    attempt = LoginAttempt(
        (), account_scope(email), account_client_scope(email, client), client_scope(client)
    )
    limits = (
        (attempt.account_client, settings.login_failures_per_account),
        (attempt.account, settings.login_failures_per_account_total),
        (attempt.client, settings.login_failures_per_client),
    )
    with transaction(db):
        waits = [seconds_until_free(db, scope, limit, now, settings) for scope, limit in limits]
        if any(waits):
            raise TooManyAttempts(max(w for w in waits if w), "failed sign-in attempts")
        db.execute(
            "DELETE FROM login_failures WHERE created_at <= ?", (to_iso(now - _window(settings)),)
        )
        db.execute(
            "DELETE FROM attempts_in_flight WHERE started_at <= ?", (to_iso(now - IN_FLIGHT_TTL),)
        )
        # The client's own limit counts failures only: a class behind one address signing in
        # at once is no guesser. Its burst is bounded by the account slots and the server's
        # worker threads, and its failures count as soon as they are known.
        slots = tuple(
            take_slot(
                db,
                scope,
                len(_failures(db, scope, limit, now, settings)),
                limit,
                "sign-in attempts for this account at once",
            )
            for scope, limit in limits[:2]
        )
    return LoginAttempt(slots, attempt.account, attempt.account_client, attempt.client)


def settle_login(db: sqlite3.Connection, attempt: LoginAttempt, right: bool) -> None:
    """Inside the caller's transaction, once the password is checked: the slots are freed;
    a wrong password counts everywhere, a right one clears this client's failures for the
    account (the client's own count, and the account's from elsewhere, stand)."""
    release(db, attempt.slots)
    if right:
        db.execute("DELETE FROM login_failures WHERE scope = ?", (attempt.account_client,))
        return
    now = utcnow()
    for scope in (attempt.account_client, attempt.account, attempt.client):
        _record(db, scope, now)


def lift_account_lock(db: sqlite3.Connection, email: str) -> None:
    """Inside the caller's transaction: a password reset through the account's own inbox
    proves the person; whatever guessers did to its sign-in, from anywhere, is forgotten."""
    scope = account_scope(email)
    prefix = scope + "|"
    db.execute(
        "DELETE FROM login_failures WHERE scope = ? OR substr(scope, 1, ?) = ?",
        (scope, len(prefix), prefix),
    )


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


MAIL_REQUESTS = {
    "reset": "password-reset requests",
    "signup": "sign-up requests",
    "invite": "invitations",
}


def count_mail_request(
    db: sqlite3.Connection,
    kind: str,
    address: str,
    sender: str,
    settings: Settings,
    record: bool,
) -> None:
    """429 when this address or this sender (a client's key, or ``user:<id>`` for an
    inviter) asked for ``kind`` mail too often lately. With ``record``, count this request
    too: call it so inside the transaction that sends the mail, so a request that fails sends
    nothing and counts nothing. Without, it only checks (before a slow bcrypt run, say)."""
    now = utcnow()
    limits = (
        (f"{kind}:{address.strip().lower()}"[:MAX_SCOPE_LENGTH], settings.mail_per_address),
        (f"{kind}-by:{sender}"[:MAX_SCOPE_LENGTH], settings.mail_per_client),
    )
    waits = [seconds_until_free(db, scope, limit, now, settings) for scope, limit in limits]
    if any(waits):
        raise TooManyAttempts(max(w for w in waits if w), MAIL_REQUESTS[kind])
    if record:
        for scope, _ in limits:
            _record(db, scope, now)
