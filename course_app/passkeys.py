"""Passkeys (WebAuthn) with the ``webauthn`` library: challenges, options and verification.

Every ceremony takes the same path. The server issues a random challenge bound to what it is
for (``register``, ``login`` or ``confirm``) and, when someone is signed in, to that user and
session. The authenticator signs it. The server then spends the challenge (once, before it
expires, committed at once so a failed attempt cannot be replayed) and has the library check
the response against its own rp_id and origin. User verification is required everywhere: a
passkey unlocked by a PIN or biometric is a whole authentication, not just "someone was there".
"""

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from course_app.audit import Audit
from course_app.clock import now_iso, to_iso, utcnow
from course_app.db import transaction
from course_app.mail import quote, send_mail
from course_app.models import User
from course_app.settings import Settings

RP_NAME = "Step-Up Auth Lab"
CHALLENGE_TTL = timedelta(minutes=2)
TIMEOUT_MS = 60_000
# What a malformed credential can make the library (or its CBOR/base64 helpers) raise.
MALFORMED = (WebAuthnException, ValueError, TypeError, LookupError)
Parsed = TypeVar("Parsed", RegistrationCredential, AuthenticationCredential)


class PasskeyRejected(Exception):
    """A ceremony that did not verify; ``str(exc)`` says why, for people."""


@dataclass(frozen=True)
class Passkey:
    id: int
    user_id: int
    credential_id: str
    public_key: bytes
    sign_count: int
    name: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Passkey":
        return cls(
            row["id"],
            row["user_id"],
            row["credential_id"],
            row["public_key"],
            row["sign_count"],
            row["name"],
        )


def list_passkeys(db: sqlite3.Connection, user_id: int) -> list[dict[str, Any]]:
    """What the account page shows: names and dates, never key material."""
    rows = db.execute(
        "SELECT id, name, created_at, last_used_at FROM passkeys WHERE user_id = ? ORDER BY id",
        (user_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def count_passkeys(db: sqlite3.Connection, user_id: int) -> int:
    return int(
        db.execute("SELECT COUNT(*) FROM passkeys WHERE user_id = ?", (user_id,)).fetchone()[0]
    )


def user_handle(db: sqlite3.Connection, user_id: int) -> bytes:
    """The account's WebAuthn user handle, created on first use (call inside a transaction)."""
    row = db.execute("SELECT handle FROM webauthn_users WHERE user_id = ?", (user_id,)).fetchone()
    if row:
        return base64url_to_bytes(row["handle"])
    handle = secrets.token_bytes(32)
    db.execute(
        "INSERT INTO webauthn_users (user_id, handle) VALUES (?, ?)",
        (user_id, bytes_to_base64url(handle)),
    )
    return handle


def issue_challenge(
    db: sqlite3.Connection, purpose: str, user_id: int | None, session_id: int | None
) -> bytes:
    """A fresh challenge for one ceremony (call inside a transaction); expired ones are swept."""
    now = utcnow()
    db.execute("DELETE FROM webauthn_challenges WHERE expires_at < ?", (to_iso(now),))
    challenge = secrets.token_bytes(32)
    db.execute(
        "INSERT INTO webauthn_challenges (challenge, purpose, user_id, session_id, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (bytes_to_base64url(challenge), purpose, user_id, session_id, to_iso(now + CHALLENGE_TTL)),
    )
    return challenge


def spend_challenge(
    db: sqlite3.Connection,
    challenge: bytes,
    purpose: str,
    user_id: int | None,
    session_id: int | None,
) -> None:
    """Delete the challenge the client signed, in its own committed transaction, so it is
    spent whatever happens next. Refused when unknown, already spent, expired, or issued for
    another purpose, user or session."""
    with transaction(db):
        spent = db.execute(
            "DELETE FROM webauthn_challenges WHERE challenge = ? AND purpose = ?"
            " AND user_id IS ? AND session_id IS ? AND expires_at >= ? RETURNING id",
            (bytes_to_base64url(challenge), purpose, user_id, session_id, now_iso()),
        ).fetchall()
    if not spent:
        raise PasskeyRejected("unknown, expired or already used challenge")


def _read(parse: Callable[[dict[str, Any]], Parsed], credential: dict[str, Any]) -> Parsed:
    """The browser's JSON, parsed; refused when malformed."""
    try:
        return parse(credential)
    except MALFORMED:
        raise PasskeyRejected("malformed credential") from None


def _signed_challenge(client_data_json: bytes) -> bytes:
    try:
        return parse_client_data_json(client_data_json).challenge
    except MALFORMED:
        raise PasskeyRejected("malformed clientDataJSON") from None


def _descriptors(db: sqlite3.Connection, user_id: int) -> list[PublicKeyCredentialDescriptor]:
    rows = db.execute("SELECT credential_id FROM passkeys WHERE user_id = ?", (user_id,))
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(r[0])) for r in rows]


def registration_options(
    db: sqlite3.Connection, settings: Settings, user: User, session_id: int
) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()`` (call inside a transaction)."""
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=user_handle(db, user.id),
        challenge=issue_challenge(db, "register", user.id, session_id),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(db, user.id),
    )
    return options_to_json_dict(options)


def register(
    db: sqlite3.Connection,
    audit: Audit,
    settings: Settings,
    user: User,
    session_id: int,
    credential: dict[str, Any],
    name: str,
) -> Passkey:
    """Verify a ``navigator.credentials.create()`` response, store the new passkey, record it
    and tell the account's address."""
    parsed = _read(parse_registration_credential_json, credential)
    challenge = _signed_challenge(parsed.response.client_data_json)
    spend_challenge(db, challenge, "register", user.id, session_id)
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            require_user_verification=True,
        )
    except MALFORMED as exc:
        raise PasskeyRejected(str(exc)) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    with transaction(db):
        if db.execute(
            "SELECT 1 FROM passkeys WHERE credential_id = ?", (credential_id,)
        ).fetchone():
            raise PasskeyRejected("this passkey is already registered")
        cur = db.execute(
            "INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, name,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                user.id,
                credential_id,
                verified.credential_public_key,
                verified.sign_count,
                name,
                now_iso(),
            ),
        )
        # In the same transaction: a passkey is never added without the owner being told,
        # nor without its entry. The name is the user's choice: quoted (no forged lines, no
        # bidi tricks) like every name that reaches a mail.
        audit.record(user.id, "passkey_added", f"passkey {cur.lastrowid} {name!r}")
        send_mail(
            db,
            user.email,
            "A passkey was added to your account",
            f"The passkey {quote(name)} can now sign in to your account. If this was not you,"
            " remove it and reset your password now.",
        )
    return Passkey(
        int(cur.lastrowid or 0),
        user.id,
        credential_id,
        verified.credential_public_key,
        verified.sign_count,
        name,
    )


def authentication_options(
    db: sqlite3.Connection,
    settings: Settings,
    purpose: str,
    user_id: int | None = None,
    session_id: int | None = None,
) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()`` (call inside a transaction). Sign-in names
    no account, so any discoverable passkey may answer; confirmation lists the user's own."""
    options = generate_authentication_options(
        rp_id=settings.rp_id,
        challenge=issue_challenge(db, purpose, user_id, session_id),
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(db, user_id) if user_id is not None else None,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


def authenticate(
    db: sqlite3.Connection,
    settings: Settings,
    credential: dict[str, Any],
    purpose: str,
    user_id: int | None = None,
    session_id: int | None = None,
) -> Passkey:
    """Verify a ``navigator.credentials.get()`` response; return the passkey that signed it.

    ``user_id`` (confirmation) requires the passkey to be that user's. The sign count must
    grow (a clone of the authenticator would fall behind); the new count is stored.
    """
    parsed = _read(parse_authentication_credential_json, credential)
    challenge = _signed_challenge(parsed.response.client_data_json)
    spend_challenge(db, challenge, purpose, user_id, session_id)
    with transaction(db):
        passkey = _owned_passkey(db, parsed, user_id)
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=settings.rp_id,
                expected_origin=settings.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except MALFORMED as exc:
            raise PasskeyRejected(str(exc)) from None
        db.execute(
            "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ?",
            (verified.new_sign_count, now_iso(), passkey.id),
        )
    return passkey


def _owned_passkey(
    db: sqlite3.Connection, parsed: AuthenticationCredential, user_id: int | None
) -> Passkey:
    row = db.execute(
        "SELECT * FROM passkeys WHERE credential_id = ?", (bytes_to_base64url(parsed.raw_id),)
    ).fetchone()
    if row is None or (user_id is not None and row["user_id"] != user_id):
        raise PasskeyRejected("this passkey is not registered to the account")
    passkey = Passkey.from_row(row)
    handle = parsed.response.user_handle
    if handle is not None and handle != user_handle(db, passkey.user_id):
        raise PasskeyRejected("the passkey's user handle does not match its account")
    return passkey
