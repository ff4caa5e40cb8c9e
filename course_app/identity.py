"""Proving who you are: the factors a user has, and checking one of them.

Used by sign-in (second factor) and by ``POST /auth/confirm`` (step-up). Checks that change
state (a TOTP timestep, a used recovery code) write inside the caller's transaction.
"""

import sqlite3

from course_app.clock import now_iso, utcnow
from course_app.errors import ApiError
from course_app.models import User
from course_app.security import totp
from course_app.security.passwords import verify_password
from course_app.security.tokens import hash_token, normalize_recovery_code


def available_methods(db: sqlite3.Connection, user: User) -> list[str]:
    """What this user can confirm with, in the order a confirmation dialog offers them."""
    methods = []
    if user.password_hash:
        methods.append("password")
    if user.totp_enabled:
        methods.append("totp")
        if db.execute(
            "SELECT 1 FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", (user.id,)
        ).fetchone():
            methods.append("recovery_code")
    if db.execute("SELECT 1 FROM passkeys WHERE user_id = ?", (user.id,)).fetchone():
        methods.append("passkey")
    return methods


def check_password(user: User, password: str, rounds: int) -> bool:
    return verify_password(password, user.password_hash, rounds)


def check_totp(db: sqlite3.Connection, user: User, code: str) -> bool:
    """Accept a current code once; the accepted timestep is stored so it cannot be replayed."""
    if not user.totp_enabled or not user.totp_secret:
        return False
    step = totp.accept(user.totp_secret, code, utcnow(), user.totp_last_step)
    if step is None:
        return False
    # The WHERE clause makes two racing requests with the same code accept it only once.
    cur = db.execute(
        "UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL"
        " OR totp_last_step < ?)",
        (step, user.id, step),
    )
    return cur.rowcount == 1


def check_recovery_code(db: sqlite3.Connection, user: User, code: str) -> bool:
    """Spend one unused recovery code."""
    if not user.totp_enabled:
        return False
    cur = db.execute(
        "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ?"
        " AND used_at IS NULL",
        (now_iso(), user.id, hash_token(normalize_recovery_code(code))),
    )
    return cur.rowcount == 1


def check_code(db: sqlite3.Connection, user: User, method: str, value: str) -> bool:
    """A TOTP or recovery code (fast, and spent in the caller's transaction). Passwords are
    checked with :func:`check_password`, outside any transaction: bcrypt is slow on purpose
    and must not hold the database's write lock."""
    if method == "totp":
        return check_totp(db, user, value)
    if method == "recovery_code":
        return check_recovery_code(db, user, value)
    return False


def code_already_used(db: sqlite3.Connection, user: User, method: str, value: str) -> bool:
    """After :func:`check_code` said no: was it a right code that was already spent (a TOTP
    code of a used timestep, a used recovery code)? Then the person needs a new code, and
    the attempt is no guess: knowing a spent code brings an attacker nothing."""
    if not user.totp_enabled or not user.totp_secret:
        return False
    if method == "totp":
        row = db.execute("SELECT totp_last_step FROM users WHERE id = ?", (user.id,)).fetchone()
        return row is not None and totp.already_used(
            user.totp_secret, value, utcnow(), row["totp_last_step"]
        )
    if method == "recovery_code":
        row = db.execute(
            "SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?"
            " AND used_at IS NOT NULL",
            (user.id, hash_token(normalize_recovery_code(value))),
        ).fetchone()
        return row is not None
    return False


CODE_ALREADY_USED = {
    "totp": "That code was already used. Wait for your authenticator app to show a new one.",
    "recovery_code": "That recovery code was already used. Each one works once: use another.",
}


FIELD_NAMES = {"password": "password", "totp": "code", "recovery_code": "recovery_code"}


def pick_one(**given: str | None) -> tuple[str, str]:
    """The single factor a request body carries, as ``(method, value)``; 400 otherwise.

    Keyword names are methods (``totp=body.code``); the message names the body fields.
    """
    present = [(method, value) for method, value in given.items() if value is not None]
    if len(present) != 1:
        fields = ", ".join(FIELD_NAMES[m] for m in given)
        raise ApiError(400, f"Provide exactly one of: {fields}", "invalid_request")
    return present[0]
