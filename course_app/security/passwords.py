"""Password rules and bcrypt hashing.

bcrypt only looks at the first 72 bytes, and bcrypt 5 raises ``ValueError`` past that (in
``checkpw`` too), so the length rule is checked in UTF-8 bytes, after NFKC normalisation,
before bcrypt ever sees the password. A password found in a list of 30,000 common (leaked)
passwords is refused too (ASVS 6.2.4): the list is the one ``zxcvbn`` ships.

Every failed check costs what one bcrypt check at the current cost (``rounds``) costs, so
timing does not tell an unknown account from a known one, even while stored hashes still
carry an older, lower cost (they are re-hashed at the next successful sign-in).
"""

import unicodedata
from functools import cache

import bcrypt

MIN_BYTES = 8
MAX_BYTES = 72


class PasswordRejected(ValueError):
    """The password breaks the length rule or is a common one; ``str(exc)`` is a message for
    people."""


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
    if is_common(raw):
        raise PasswordRejected("This password is one of the most common ones: choose another")
    return raw


@cache
def _common_passwords() -> frozenset[str]:
    """Loaded on first use (about 50 ms), lower-case, only those the length rule lets in."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(
        word.casefold()
        for word in FREQUENCY_LISTS["passwords"]
        if MIN_BYTES <= len(word.encode("utf-8")) <= MAX_BYTES
    )


def is_common(raw: bytes) -> bool:
    """Compared case-insensitively: "Password1" is as common as "password1"."""
    return raw.decode("utf-8").casefold() in _common_passwords()


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(check_policy(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True when ``password`` matches. Every way of failing costs one bcrypt check at
    ``rounds`` (the current cost), so the answer's timing does not tell whether the account
    exists, has a password, has an older hash, or whether the password was empty or too long."""
    raw = normalize(password)
    stored = _rounds_of(password_hash)
    if password_hash is None or stored is None or not raw or len(raw) > MAX_BYTES:
        burn_time(password, rounds)
        return False
    if bcrypt.checkpw(raw, password_hash.encode("ascii")):
        return True
    # A hash at a lower cost c was quicker to reject: bcrypt at c, c+1, …, rounds-1 costs
    # 2^c + … + 2^(rounds-1) = 2^rounds - 2^c, which tops it up to one check at ``rounds``.
    for cost in range(stored, rounds):
        burn_time(password, cost)
    return False


def needs_rehash(password_hash: str | None, rounds: int) -> bool:
    """The hash was made at another cost than the current one."""
    return password_hash is not None and _rounds_of(password_hash) != rounds


def rehash(password: str, rounds: int) -> str:
    """The hash of a password that was just verified, at the current cost. No policy check:
    a password chosen under an older rule still signs in (it is changed by its owner)."""
    return bcrypt.hashpw(normalize(password), bcrypt.gensalt(rounds)).decode("ascii")


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
