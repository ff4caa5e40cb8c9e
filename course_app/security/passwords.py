"""Password rules and bcrypt hashing.

bcrypt only looks at the first 72 bytes, and bcrypt 5 raises ``ValueError`` past that (in
``checkpw`` too), so the length rule is checked in UTF-8 bytes, after NFKC normalisation,
before bcrypt ever sees the password.
"""

import unicodedata

import bcrypt

MIN_BYTES = 8
MAX_BYTES = 72


class PasswordRejected(ValueError):
    """The password breaks the length rule; ``str(exc)`` is a message for people."""


def normalize(password: str) -> bytes:
    """NFKC, so the same password typed on two keyboards gives the same bytes."""
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def check_policy(password: str) -> bytes:
    """Return the normalised bytes, or raise :class:`PasswordRejected`."""
    raw = normalize(password)
    if len(raw) < MIN_BYTES:
        raise PasswordRejected(f"Password must be at least {MIN_BYTES} bytes long")
    if len(raw) > MAX_BYTES:
        raise PasswordRejected(f"Password must be at most {MAX_BYTES} bytes long in UTF-8")
    return raw


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(check_policy(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True when ``password`` matches. Every way of failing costs one bcrypt check, so the
    answer's timing does not tell whether the account exists, has a password, or whether the
    password was empty or too long. ``rounds`` is the cost used when there is no hash."""
    raw = normalize(password)
    if password_hash is None or not raw or len(raw) > MAX_BYTES:
        burn_time(password, _rounds_of(password_hash) or rounds)
        return False
    return bcrypt.checkpw(raw, password_hash.encode("ascii"))


def burn_time(password: str, rounds: int) -> None:
    """Spend a bcrypt check's time when there is nothing to check against."""
    raw = normalize(password)[:MAX_BYTES] or b"x"
    bcrypt.checkpw(raw, dummy_hash(rounds))


_DUMMIES: dict[int, bytes] = {}


def dummy_hash(rounds: int) -> bytes:
    """A hash of nothing at ``rounds``; ``create_app`` makes it at start-up, so the first
    unknown account does not pay for two bcrypt runs."""
    if rounds not in _DUMMIES:
        _DUMMIES[rounds] = bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds))
    return _DUMMIES[rounds]


def _rounds_of(password_hash: str | None) -> int | None:
    """The cost stored in a ``$2b$12$…`` hash."""
    parts = (password_hash or "").split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
