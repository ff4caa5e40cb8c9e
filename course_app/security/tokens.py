"""Random secrets and their stored form.

Only hashes are stored: a leaked table must not hand out live sessions, links or keys.
SHA-256 is enough here because every secret is random and long (256 bits for tokens and
keys, 128 for recovery codes: ASVS 6.5.2 allows a plain hash from 112 bits on), not a
guessable password.
"""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_recovery_codes(count: int = 10) -> list[str]:
    """Codes like ``7f3a91c0-bc04de12-55e0a1f7-9c2b7730``: 128 random bits (enough that their
    unsalted SHA-256 cannot be brute-forced from a leaked table), in groups to read out."""
    return ["-".join(secrets.token_hex(4) for _ in range(4)) for _ in range(count)]


def normalize_recovery_code(code: str) -> str:
    return code.strip().lower().replace(" ", "")


def new_api_key() -> tuple[str, str]:
    """Return ``(secret, prefix)``; the prefix is shown in lists, the secret only once."""
    secret = "sk_" + secrets.token_urlsafe(32)
    return secret, secret[:10]
