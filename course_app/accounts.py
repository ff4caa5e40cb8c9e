"""Users, their addresses and the single-use links mailed to them."""

import sqlite3
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from course_app.clock import from_iso, now_iso, to_iso, utcnow
from course_app.errors import ApiError
from course_app.mail import send_mail
from course_app.models import User
from course_app.security.tokens import hash_token, new_token

EMAIL_TOKEN_TTL = {"verify_email": timedelta(hours=24), "reset_password": timedelta(hours=1)}
MAX_EMAIL_LENGTH = 254
STALE_LINK = "This link is for an address the account no longer uses"


def normalize_email(raw: object) -> str | None:
    """Trimmed, domain lower-cased address, or None when it is not a usable address."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_EMAIL_LENGTH:
        return None
    try:
        # test_environment: a course app lives on *.test and example domains, never the real DNS.
        checked = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return f"{checked.local_part}@{checked.domain.lower()}"


def get_user(db: sqlite3.Connection, user_id: int) -> User | None:
    row = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return User.from_row(row) if row else None


def find_user_by_email(db: sqlite3.Connection, email: str) -> User | None:
    row = db.execute("SELECT * FROM users WHERE email = ? COLLATE NOCASE", (email,)).fetchone()
    return User.from_row(row) if row else None


def email_taken(db: sqlite3.Connection, email: str, except_user_id: int | None = None) -> bool:
    row = db.execute(
        "SELECT 1 FROM users WHERE email = ? COLLATE NOCASE AND id IS NOT ?",
        (email, except_user_id),
    ).fetchone()
    return row is not None


def create_user(
    db: sqlite3.Connection, email: str, password_hash: str | None, verified: bool = False
) -> int:
    cur = db.execute(
        "INSERT INTO users (email, email_verified, password_hash, created_at) VALUES (?, ?, ?, ?)",
        (email, int(verified), password_hash, now_iso()),
    )
    user_id = int(cur.lastrowid or 0)
    if not verified:
        db.execute(
            "INSERT INTO signup_claims (user_id, created_at) VALUES (?, ?)", (user_id, now_iso())
        )
    return user_id


def is_unproven_signup(db: sqlite3.Connection, user_id: int) -> bool:
    """Signed up, never verified: the inbox's owner may still claim the account."""
    row = db.execute("SELECT 1 FROM signup_claims WHERE user_id = ?", (user_id,)).fetchone()
    return row is not None


def may_receive_recovery(db: sqlite3.Connection, user: User) -> bool:
    """Recovery mail goes to a proven inbox, or to the inbox of an unproven sign-up (whose
    reset then proves it). Never to an address that changed and is unproven since: a typo's
    owner must not be handed the account."""
    return user.email_verified or is_unproven_signup(db, user.id)


def claim_by_reset(db: sqlite3.Connection, user_id: int, email: str) -> None:
    """A reset link opened from the inbox of an unproven sign-up proves that inbox. Whoever
    signed up may have been someone else: nothing they set up survives (second factors,
    passkeys, org memberships); the caller signs every session out."""
    db.execute("DELETE FROM signup_claims WHERE user_id = ?", (user_id,))
    db.execute(
        "UPDATE users SET email_verified = 1, totp_enabled = 0, totp_secret = NULL,"
        " totp_last_step = NULL WHERE id = ? AND email = ? COLLATE NOCASE",
        (user_id, email),
    )
    db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM passkeys WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM memberships WHERE user_id = ?", (user_id,))


def issue_email_token(db: sqlite3.Connection, user_id: int, purpose: str, email: str) -> str:
    """Mint a link token for ``email``; any older unused token of the same purpose dies."""
    now = utcnow()
    db.execute(
        "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
        (to_iso(now), user_id, purpose),
    )
    token = new_token()
    db.execute(
        "INSERT INTO email_tokens (user_id, purpose, email, token_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            user_id,
            purpose,
            email,
            hash_token(token),
            to_iso(now),
            to_iso(now + EMAIL_TOKEN_TTL[purpose]),
        ),
    )
    return token


def consume_email_token(db: sqlite3.Connection, token: str, purpose: str) -> sqlite3.Row:
    """Mark a link token used and return its row, or raise a 400 that says why not."""
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM email_tokens WHERE token_hash = ? AND purpose = ?",
        (hash_token(token), purpose),
    ).fetchone()
    if row is None:
        raise ApiError(400, "This link is not valid", "invalid_token")
    if row["used_at"] is not None:
        raise ApiError(400, "This link was already used or has been replaced", "used_token")
    if from_iso(row["expires_at"]) < utcnow():
        raise ApiError(400, "This link has expired", "expired_token")
    db.execute("UPDATE email_tokens SET used_at = ? WHERE id = ?", (now_iso(), row["id"]))
    return row


def send_verification(db: sqlite3.Connection, user_id: int, email: str, origin: str) -> None:
    """Mail a fresh verification link to ``email`` (older links stop working)."""
    token = issue_email_token(db, user_id, "verify_email", email)
    link = f"{origin}/verify-email?token={token}"
    send_mail(
        db,
        email,
        "Verify your email address",
        f"Open this link within 24 hours to confirm that {email} is yours:\n{link}",
        link,
    )


def verify_email(db: sqlite3.Connection, token: str) -> int:
    """Consume a verification link; the address is verified only if it is still the account's."""
    row = consume_email_token(db, token, "verify_email")
    cur = db.execute(
        "UPDATE users SET email_verified = 1 WHERE id = ? AND email = ? COLLATE NOCASE",
        (row["user_id"], row["email"]),
    )
    if cur.rowcount == 0:
        raise ApiError(400, STALE_LINK, "stale_token")
    db.execute("DELETE FROM signup_claims WHERE user_id = ?", (row["user_id"],))
    return int(row["user_id"])
