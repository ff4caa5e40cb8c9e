"""The signed-in user's own account: profile, sessions, 2FA, deletion (changing the password
is exercise 5, mounted from exercises/ or solutions/)."""

import sqlite3
from typing import Any

from fastapi import APIRouter, Response

from course_app import ratelimit
from course_app.audit import entries_for
from course_app.clock import now_iso, to_iso, utcnow
from course_app.cookies import clear_cookies
from course_app.db import transaction
from course_app.deps import (
    DB,
    AuditTrail,
    CurrentSession,
    CurrentUser,
    RecentAuth,
    SettingsDep,
    VerifiedUser,
)
from course_app.errors import ApiError, NotFound
from course_app.identity import available_methods, check_code, pick_one
from course_app.mail import send_mail
from course_app.policy import level_of
from course_app.schemas import RowId, SecondFactor, TotpCode
from course_app.security import totp
from course_app.security.recency import is_recent, seconds_left, window_ends
from course_app.security.tokens import hash_token, new_recovery_codes

router = APIRouter(tags=["me"])


@router.get("/me")
def me(user: CurrentUser, session: CurrentSession, db: DB, settings: SettingsDep) -> dict[str, Any]:
    now = utcnow()
    recent = is_recent(session.confirmed_at, now, settings.reauth_window_seconds)
    ends = window_ends(session.confirmed_at, settings.reauth_window_seconds)
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "two_factor_enabled": user.totp_enabled,
        "methods": available_methods(db, user),
        "reauth": {
            "recent": recent,
            "expires_at": to_iso(ends) if recent and ends else None,
            "expires_in": seconds_left(session.confirmed_at, now, settings.reauth_window_seconds),
            "method": session.confirmed_method if recent else None,
            # Derived from the method, never stored: what the stamp satisfies (policy.py).
            "level": level_of(session.confirmed_method).label if recent else None,
            "max_age": settings.reauth_window_seconds,
        },
    }


@router.get("/me/sessions")
def list_sessions(session: CurrentSession, db: DB) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, created_at, last_seen_at, confirmed_at, confirmed_method, user_agent"
        " FROM sessions WHERE user_id = ? ORDER BY id",
        (session.user_id,),
    ).fetchall()
    return [dict(row) | {"current": row["id"] == session.id} for row in rows]


@router.get("/me/security-log")
def security_log(user: CurrentUser, db: DB) -> list[dict[str, Any]]:
    """This account's sign-ins, confirmations and sensitive changes, newest first."""
    return entries_for(db, user.id)


@router.delete("/me/sessions/{session_id}", status_code=204)
def revoke_session(
    session_id: RowId, session: RecentAuth, db: DB, response: Response, audit: AuditTrail
) -> None:
    with transaction(db):
        cur = db.execute(
            "DELETE FROM sessions WHERE id = ? AND user_id = ?", (session_id, session.user_id)
        )
        if cur.rowcount == 0:
            raise NotFound("Session not found")
        which = "this session" if session_id == session.id else f"session {session_id}"
        audit.record(session.user_id, "session_revoked", which)
    if session_id == session.id:
        clear_cookies(response)


@router.delete("/me", status_code=204)
def delete_account(
    user: CurrentUser, _: RecentAuth, response: Response, db: DB, audit: AuditTrail
) -> None:
    with transaction(db):
        _leave_orgs(db, user.id)
        db.execute("DELETE FROM users WHERE id = ?", (user.id,))
        # The account's own entries go with it; this one stays, without a link to a person.
        audit.record(None, "account_deleted", f"user {user.id}")
    clear_cookies(response)


def _leave_orgs(db: sqlite3.Connection, user_id: int) -> None:
    """Orgs must not outlive their last owner with live API keys and nobody to revoke them:
    an org the user is alone in goes too (its keys with it); an org where they are the only
    owner among others stops the deletion until ownership is handed over."""
    stranded = db.execute(
        "SELECT o.name FROM orgs o JOIN memberships m ON m.org_id = o.id"
        " WHERE m.user_id = ? AND m.role = 'owner'"
        " AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.org_id = o.id"
        "   AND x.user_id != ? AND x.role = 'owner')"
        " AND EXISTS (SELECT 1 FROM memberships y WHERE y.org_id = o.id AND y.user_id != ?)",
        (user_id, user_id, user_id),
    ).fetchall()
    if stranded:
        names = ", ".join(row["name"] for row in stranded)
        raise ApiError(409, f"Make someone else an owner of {names} first", "sole_owner")
    # Power ends with the account, as with a removal (memberships.end_power): its keys stop
    # working and its pending invitations go in the orgs that live on.
    db.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE created_by = ? AND revoked_at IS NULL",
        (now_iso(), user_id),
    )
    db.execute("DELETE FROM invitations WHERE invited_by = ?", (user_id,))
    db.execute(
        "DELETE FROM orgs WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)"
        " AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.org_id = orgs.id"
        "   AND x.user_id != ?)",
        (user_id, user_id),
    )


@router.post("/me/2fa/setup", name="setup_two_factor")
def setup_totp(user: VerifiedUser, _: RecentAuth, db: DB, audit: AuditTrail) -> dict[str, str]:
    """Start (or restart) enrolment: a new secret, trusted only after ``/me/2fa/enable``."""
    if user.totp_enabled:
        raise ApiError(409, "Two-factor authentication is already on", "already_enabled")
    secret = totp.new_secret()
    with transaction(db):
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (secret, user.id))
        audit.record(user.id, "two_factor_setup_started")
    return {"secret": secret, "otpauth_uri": totp.provisioning_uri(secret, user.email)}


@router.post("/me/2fa/enable")
def enable_totp(body: TotpCode, user: VerifiedUser, db: DB, audit: AuditTrail) -> dict[str, Any]:
    """Prove the authenticator works; get 10 single-use recovery codes (shown this once)."""
    if user.totp_enabled:
        raise ApiError(409, "Two-factor authentication is already on", "already_enabled")
    if not user.totp_secret:
        raise ApiError(400, "Start with POST /me/2fa/setup", "no_setup")
    step = totp.accept(user.totp_secret, body.code, utcnow(), user.totp_last_step)
    if step is None:
        raise ApiError(400, "That code is not valid; check the time on your device", "invalid_code")
    codes = new_recovery_codes()
    with transaction(db):
        cur = db.execute(
            "UPDATE users SET totp_enabled = 1, totp_last_step = ? WHERE id = ?"
            " AND totp_secret = ? AND totp_enabled = 0",
            (step, user.id, user.totp_secret),
        )
        if cur.rowcount == 0:  # a concurrent setup or enable got there first
            raise ApiError(409, "Two-factor setup changed meanwhile; start again", "conflict")
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user.id,))
        db.executemany(
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
            [(user.id, hash_token(code)) for code in codes],
        )
        audit.record(user.id, "two_factor_enabled")
        send_mail(
            db,
            user.email,
            "Two-factor authentication was turned on",
            "Signing in to your account now asks for a code from your authenticator app. If"
            " this was not you, someone holds your password and a session: reset your password"
            " now.",
        )
    return {"message": "Two-factor authentication is on.", "recovery_codes": codes}


@router.post("/me/2fa/disable", name="disable_two_factor")
def disable_totp(
    body: SecondFactor,
    user: CurrentUser,
    _: RecentAuth,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
) -> dict[str, str]:
    """Needs both: a recent confirmation with the second factor (the policy's
    ``disable_two_factor``) *and* a code in the body, which this request spends."""
    if not user.totp_enabled:
        raise ApiError(409, "Two-factor authentication is already off", "already_disabled")
    method, value = pick_one(totp=body.code, recovery_code=body.recovery_code)
    with transaction(db):
        ratelimit.guard_codes(db, user.id, settings)
        ok = check_code(db, user, method, value)
        if ok:
            db.execute(
                "UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_last_step = NULL"
                " WHERE id = ?",
                (user.id,),
            )
            db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user.id,))
            audit.record(user.id, "two_factor_disabled", f"with a {method} code")
            send_mail(
                db,
                user.email,
                "Two-factor authentication was turned off",
                "Your account now signs in with a password alone. If this was not you, reset"
                " your password and turn two-factor authentication back on.",
            )
        else:
            ratelimit.record_code_failure(db, user.id)
            audit.record(user.id, "two_factor_disable_failed", f"wrong {method} code")
    if not ok:
        raise ApiError(401, "Invalid code", "invalid_credentials")
    return {"message": "Two-factor authentication is off."}
