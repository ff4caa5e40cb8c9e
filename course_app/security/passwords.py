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


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; False for a missing hash or an impossible password."""
    raw = normalize(password)
    if password_hash is None or not raw or len(raw) > MAX_BYTES:
        return False
    return bcrypt.checkpw(raw, password_hash.encode("ascii"))


def burn_time(password: str, rounds: int) -> None:
    """Spend a bcrypt check's time when there is no account, so timing does not tell."""
    raw = normalize(password)[:MAX_BYTES] or b"x"
    bcrypt.checkpw(raw, _dummy_hash(rounds))


_DUMMIES: dict[int, bytes] = {}


def _dummy_hash(rounds: int) -> bytes:
    if rounds not in _DUMMIES:
        _DUMMIES[rounds] = bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds))
    return _DUMMIES[rounds]
