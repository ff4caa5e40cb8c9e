"""Passkeys: register and remove them (step-up), sign in with one, confirm identity with one.

Confirming with a passkey ends exactly like ``POST /auth/confirm``: the same stamp, rotated
cookie, body and failure count (see ``course_app/confirmation.py``).
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from course_app import passkeys
from course_app.confirmation import confirmation_answer, settle_confirmation
from course_app.cookies import set_session_cookie
from course_app.db import transaction
from course_app.deps import (
    DB,
    AuditTrail,
    CurrentSession,
    CurrentUser,
    RecentAuth,
    SettingsDep,
    StepUpRule,
    VerifiedUser,
)
from course_app.errors import ApiError, NotFound
from course_app.mail import quote, send_mail
from course_app.schemas import Body, RowId
from course_app.sessions import COOKIE, create_session, end_previous_session

router = APIRouter(tags=["passkeys"])


class PasskeyResponse(Body):
    """A ``PublicKeyCredential`` serialised as JSON (base64url fields), as the browser made it."""

    credential: dict[str, Any]


class NewPasskey(PasskeyResponse):
    name: str = Field("Passkey", min_length=1, max_length=60)


@router.get("/me/passkeys")
def list_passkeys(user: CurrentUser, db: DB) -> list[dict[str, Any]]:
    return passkeys.list_passkeys(db, user.id)


@router.post("/me/passkeys/options", name="add_passkey")
def registration_options(
    user: VerifiedUser, session: RecentAuth, db: DB, settings: SettingsDep
) -> dict[str, Any]:
    """Start adding a passkey. Sensitive: a new way into the account."""
    with transaction(db):
        return passkeys.registration_options(db, settings, user, session.id)


@router.post("/me/passkeys", status_code=201)
def add_passkey(
    body: NewPasskey,
    user: VerifiedUser,
    session: RecentAuth,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
) -> dict[str, Any]:
    name = body.name.strip() or "Passkey"
    try:
        passkey = passkeys.register(db, audit, settings, user, session.id, body.credential, name)
    except passkeys.PasskeyRejected as exc:
        raise ApiError(400, f"Passkey not added: {exc}", "invalid_passkey") from None
    return {"id": passkey.id, "name": passkey.name, "message": "Passkey added."}


@router.delete("/me/passkeys/{passkey_id:int}", status_code=204)
def remove_passkey(
    passkey_id: RowId,
    user: CurrentUser,
    _: RecentAuth,
    step_up: StepUpRule,
    db: DB,
    audit: AuditTrail,
) -> None:
    with transaction(db):
        row = db.execute(
            "SELECT name FROM passkeys WHERE id = ? AND user_id = ?", (passkey_id, user.id)
        ).fetchone()
        if row is None:
            raise NotFound("Passkey not found")
        last = passkeys.count_passkeys(db, user.id) == 1
        if last and user.password_hash is None:
            raise ApiError(
                409,
                "This passkey is your only way to sign in: set a password first",
                "last_credential",
            )
        if last:
            # The account's level drops with it. Counted under the write lock, so two
            # removals at once cannot each believe that another passkey stays.
            step_up.require("remove_last_passkey")
        db.execute("DELETE FROM passkeys WHERE id = ?", (passkey_id,))
        audit.record(user.id, "passkey_removed", f"passkey {passkey_id}")
        send_mail(
            db,
            user.email,
            "A passkey was removed from your account",
            f"The passkey {quote(row['name'])} can no longer sign in to your account.",
        )


@router.delete("/me/password")
def remove_password(user: CurrentUser, _: RecentAuth, db: DB, audit: AuditTrail) -> dict[str, str]:
    """Go passkey-only. Allowed only with a passkey, so the account keeps a way in."""
    if user.password_hash is None:
        raise ApiError(409, "This account has no password", "no_password")
    with transaction(db):
        if passkeys.count_passkeys(db, user.id) == 0:
            raise ApiError(409, "Add a passkey before removing your password", "no_passkey")
        db.execute("UPDATE users SET password_hash = NULL WHERE id = ?", (user.id,))
        audit.record(user.id, "password_removed", "now passkey-only")
        send_mail(
            db,
            user.email,
            "Your password was removed",
            "Your account now signs in with passkeys only. If this was not you, reset your"
            " password now.",
        )
    return {"message": "Password removed. Sign in with your passkey from now on."}


@router.post("/auth/passkey/options")
def login_options(db: DB, settings: SettingsDep) -> dict[str, Any]:
    """Start a passkey sign-in: no email needed, the authenticator offers its passkeys."""
    with transaction(db):
        return passkeys.authentication_options(db, settings, "login")


@router.post("/auth/passkey")
def login_with_passkey(
    body: PasskeyResponse,
    request: Request,
    response: Response,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
) -> dict[str, Any]:
    """A user-verified passkey is a whole sign-in (no second factor asked)."""
    try:
        passkey = passkeys.authenticate(db, settings, body.credential, "login")
    except passkeys.PasskeyRejected as exc:
        raise ApiError(401, f"Passkey sign-in failed: {exc}", "invalid_credentials") from None
    stamp = "passkey" if settings.login_is_recent_auth else None
    with transaction(db):
        end_previous_session(db, request.cookies.get(COOKIE))
        token = create_session(db, passkey.user_id, request.headers.get("user-agent", ""), stamp)
        audit.record(passkey.user_id, "signed_in", "passkey")
    set_session_cookie(response, token, settings)
    return {"two_factor_required": False, "message": "Signed in.", "user_id": passkey.user_id}


@router.post("/auth/confirm/passkey/options")
def confirm_options(
    session: CurrentSession, user: CurrentUser, db: DB, settings: SettingsDep
) -> dict[str, Any]:
    with transaction(db):
        if passkeys.count_passkeys(db, user.id) == 0:
            raise ApiError(400, "This account has no passkey", "no_passkey")
        return passkeys.authentication_options(db, settings, "confirm", user.id, session.id)


@router.post("/auth/confirm/passkey")
def confirm_with_passkey(
    body: PasskeyResponse,
    session: CurrentSession,
    user: CurrentUser,
    request: Request,
    response: Response,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
) -> dict[str, Any]:
    """``POST /auth/confirm`` with a passkey: same stamp, cookie, answer, lockout and entry."""
    try:
        passkeys.authenticate(db, settings, body.credential, "confirm", user.id, session.id)
        ok, failure = True, ""
    except passkeys.PasskeyRejected as exc:
        ok, failure = False, f"Passkey not accepted: {exc}"
    with transaction(db):  # the session watch refuses a cookie rotated or revoked meanwhile
        settled = settle_confirmation(db, audit, session, "passkey", ok, settings)
    return confirmation_answer(settled, response, settings, failure)
