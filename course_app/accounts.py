"""Users, their addresses and the single-use links mailed to them.

An address nobody has proven belongs to nobody. Exercise 1 stores a new address at once, with
``email_verified = 0``, and mails it a link; until that link is opened by the account it names,
signed in, the address reserves nothing: its real owner may sign up with it (the account
holding it goes back to the last address it proved, see :func:`release_unproven`), and a
reset through it sends nothing, as for a free address.
"""

import sqlite3
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from course_app.audit import Audit
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


def highest_password_cost(db: sqlite3.Connection) -> int:
    """The highest bcrypt cost among the stored hashes (``$2b$12$…``), 0 when there are none:
    after ``STEPUP_BCRYPT_ROUNDS`` is lowered, hashes at the old cost stay until their owners
    sign in, and a wrong password must cost what rejecting one of those costs."""
    row = db.execute(
        "SELECT MAX(CAST(substr(password_hash, 5, 2) AS INTEGER)) FROM users"
        " WHERE password_hash LIKE '$2_$__$%'"
    ).fetchone()
    return int(row[0] or 0)


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
    owner must not be handed the account. (A sign-up's claim ends when its address changes:
    a trigger in ``schema.sql``.)"""
    return user.email_verified or is_unproven_signup(db, user.id)


def proven_address(db: sqlite3.Connection, user_id: int) -> str | None:
    """The address the account last proved before moving to an unproven one (kept by a
    trigger in ``schema.sql``, whoever changed the address)."""
    row = db.execute("SELECT email FROM proven_addresses WHERE user_id = ?", (user_id,)).fetchone()
    return str(row["email"]) if row else None


def account_label(db: sqlite3.Connection, user_id: int) -> str:
    """How a page names an account to someone holding a link for it: the address the account
    last proved (its own people know it), never the unproven one in the link."""
    user = get_user(db, user_id)
    if user is not None and user.email_verified:
        return user.email
    proven = proven_address(db, user_id)
    return f"the account of {proven}" if proven else "an account that has no verified address"


def parked_address(user_id: int) -> str:
    """Where an account goes that holds an unproven address and has no proven one to go back
    to: a reserved domain (RFC 2606) that receives no mail and that nobody can sign up with."""
    return f"unclaimed-{user_id}@parked.invalid"


def release_unproven(db: sqlite3.Connection, audit: Audit, email: str) -> None:
    """Inside a sign-up's transaction: an account holding ``email`` without having proven it,
    after an email change, lets go of it so its real owner can sign up.

    The account goes back to the last address it proved, verified again, and is told there;
    without one (or when that address is someone else's since), it is parked at
    :func:`parked_address` and keeps its sessions, from which its owner can set an address of
    their own. Its links for ``email`` die. An unproven *sign-up* still on its own address is
    left alone: that is a claim its inbox's owner takes over with a password reset.
    """
    holder = find_user_by_email(db, email)
    if holder is None or holder.email_verified or is_unproven_signup(db, holder.id):
        return
    back = proven_address(db, holder.id)
    verified = back is not None and not email_taken(db, back, except_user_id=holder.id)
    address = back if verified and back else parked_address(holder.id)
    db.execute(
        "UPDATE users SET email = ?, email_verified = ? WHERE id = ?",
        (address, int(verified), holder.id),
    )
    db.execute(
        "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND email = ? COLLATE NOCASE"
        " AND used_at IS NULL",
        (now_iso(), holder.id, email),
    )
    audit.record(holder.id, "email_released", f"{email} was never verified; now {address}")
    if verified:
        send_mail(
            db,
            address,
            "Your account's address was changed back",
            f"Your account had moved to {email}, which was never verified, and the owner of"
            f" that address has now claimed it. Your account uses {address} again. If you did"
            " not ask for that change, someone holds your password: reset it now.",
        )


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
    row = usable_email_token(db, token, purpose)
    db.execute("UPDATE email_tokens SET used_at = ? WHERE id = ?", (now_iso(), row["id"]))
    return row


def usable_email_token(db: sqlite3.Connection, token: str, purpose: str) -> sqlite3.Row:
    """The row of a link token that may still be used, or a 400 that says why not."""
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


class WrongAccount(ApiError):
    """A verification link of an email change opened without that account's session."""

    def __init__(self, status: int, message: str, code: str, account: str) -> None:
        super().__init__(status, message, code, account=account)


def _check_link_opener(db: sqlite3.Connection, row: sqlite3.Row, opener: int | None) -> None:
    """A sign-up's link works for whoever opens it (the inbox proves itself, and what the
    account was set up with is wiped if its inbox's owner claims it by a reset). A link of an
    email change only proves the inbox to the account that asked for it, signed in: otherwise
    the owner of an address an attacker pointed their account at would, by clicking, hand
    the attacker a verified hold on it."""
    user_id = int(row["user_id"])
    if opener == user_id:
        return
    user = get_user(db, user_id)
    if user is not None and is_unproven_signup(db, user_id):
        return
    account = account_label(db, user_id)
    if opener is None:
        raise WrongAccount(
            401,
            f"This link confirms {row['email']} for {account}. Sign in to that account, then"
            " open the link again. If you did not ask for it, ignore it: the address stays"
            " free for you.",
            "not_authenticated",
            account,
        )
    raise WrongAccount(
        403,
        f"This link confirms {row['email']} for {account}, not for the account you are"
        " signed in to. If you did not ask for it, ignore it: the address stays free for you.",
        "wrong_account",
        account,
    )


def verify_email(db: sqlite3.Connection, token: str, opener: int | None = None) -> int:
    """Consume a verification link; the address is verified only if it is still the account's,
    and, for an email change, only for that account's own session (``opener``)."""
    _check_link_opener(db, usable_email_token(db, token, "verify_email"), opener)
    row = consume_email_token(db, token, "verify_email")
    cur = db.execute(
        "UPDATE users SET email_verified = 1 WHERE id = ? AND email = ? COLLATE NOCASE",
        (row["user_id"], row["email"]),
    )
    if cur.rowcount == 0:
        raise ApiError(400, STALE_LINK, "stale_token")
    db.execute("DELETE FROM signup_claims WHERE user_id = ?", (row["user_id"],))
    return int(row["user_id"])
