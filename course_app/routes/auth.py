"""Sign-up, sign-in (with an optional second factor), sign-out, and identity confirmation."""

from typing import Any

from fastapi import APIRouter, Request, Response

from course_app import accounts
from course_app.clock import from_iso, now_iso, to_iso, utcnow
from course_app.cookies import clear_cookies, set_pending_cookie, set_session_cookie
from course_app.db import transaction
from course_app.deps import DB, CurrentSession, CurrentUser, SettingsDep
from course_app.errors import ApiError
from course_app.identity import check_factor, check_password, pick_one
from course_app.mail import send_mail
from course_app.schemas import Confirmation, Credentials, EmailOnly, PasswordReset, SecondFactor
from course_app.security.passwords import PasswordRejected, burn_time, hash_password
from course_app.security.recency import window_ends
from course_app.security.tokens import hash_token, new_token
from course_app.sessions import (
    PENDING_COOKIE,
    PENDING_TTL,
    create_session,
    delete_session,
    record_failed_confirmation,
    stamp_and_rotate,
)

router = APIRouter(tags=["auth"])

INVALID_LOGIN = "Invalid email or password"
MAX_PENDING_ATTEMPTS = 5


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


@router.post("/auth/signup", status_code=201)
def signup(body: Credentials, db: DB, settings: SettingsDep) -> dict[str, Any]:
    email = accounts.normalize_email(body.email)
    if email is None:
        raise ApiError(400, "A valid email address is required", "invalid_email")
    try:
        password_hash = hash_password(body.password, settings.bcrypt_rounds)
    except PasswordRejected as exc:
        raise ApiError(400, str(exc), "weak_password") from None
    with transaction(db):
        if accounts.email_taken(db, email):
            raise ApiError(409, "Email already in use", "email_taken")
        user_id = accounts.create_user(db, email, password_hash)
        accounts.send_verification(db, user_id, email, settings.origin)
    return {"id": user_id, "email": email, "message": "Account created. Check your inbox."}


@router.post("/auth/login")
def login(
    body: Credentials, request: Request, response: Response, db: DB, settings: SettingsDep
) -> dict[str, Any]:
    email = accounts.normalize_email(body.email)
    user = accounts.find_user_by_email(db, email) if email else None
    if user is None:
        burn_time(body.password, settings.bcrypt_rounds)
        raise ApiError(401, INVALID_LOGIN, "invalid_credentials")
    if not check_password(user, body.password):
        raise ApiError(401, INVALID_LOGIN, "invalid_credentials")
    if user.totp_enabled:
        token = new_token()
        with transaction(db):
            db.execute(
                "INSERT INTO pending_logins (token_hash, user_id, created_at) VALUES (?, ?, ?)",
                (hash_token(token), user.id, now_iso()),
            )
        set_pending_cookie(response, token, settings)
        return {"two_factor_required": True, "message": "Enter the code from your authenticator."}
    stamp = "password" if settings.login_is_recent_auth else None
    with transaction(db):
        token = create_session(db, user.id, _user_agent(request), stamp)
    set_session_cookie(response, token, settings)
    return {"two_factor_required": False, "message": "Signed in.", "user_id": user.id}


@router.post("/auth/login/2fa")
def login_second_factor(
    body: SecondFactor, request: Request, response: Response, db: DB, settings: SettingsDep
) -> dict[str, Any]:
    method, value = pick_one(totp=body.code, recovery_code=body.recovery_code)
    token = request.cookies.get(PENDING_COOKIE)
    with transaction(db):
        row = None
        if token:
            row = db.execute(
                "SELECT * FROM pending_logins WHERE token_hash = ?", (hash_token(token),)
            ).fetchone()
        if row is None or utcnow() - from_iso(row["created_at"]) > PENDING_TTL:
            raise ApiError(401, "Sign in with your password first", "no_pending_login")
        user = accounts.get_user(db, row["user_id"])
        if user is None or not check_factor(db, user, method, value):
            attempts = row["attempts"] + 1
            if attempts >= MAX_PENDING_ATTEMPTS:
                db.execute("DELETE FROM pending_logins WHERE id = ?", (row["id"],))
            else:
                db.execute(
                    "UPDATE pending_logins SET attempts = ? WHERE id = ?", (attempts, row["id"])
                )
            failed = True
        else:
            db.execute("DELETE FROM pending_logins WHERE id = ?", (row["id"],))
            stamp = method if settings.login_is_recent_auth else None
            session_token = create_session(db, user.id, _user_agent(request), stamp)
            failed = False
    if failed:
        # Outside the transaction block so the attempt counter above is committed.
        raise ApiError(401, "Invalid code", "invalid_credentials")
    set_session_cookie(response, session_token, settings)
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return {"two_factor_required": False, "message": "Signed in.", "user_id": user.id}


@router.post("/auth/logout", status_code=204)
def logout(session: CurrentSession, response: Response, db: DB) -> None:
    with transaction(db):
        delete_session(db, session.id)
    clear_cookies(response)


@router.post("/auth/confirm")
def confirm(
    body: Confirmation,
    session: CurrentSession,
    user: CurrentUser,
    response: Response,
    db: DB,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Re-authentication: prove it is still you, and this session is trusted for a while."""
    method, value = pick_one(
        password=body.password, totp=body.code, recovery_code=body.recovery_code
    )
    with transaction(db):
        ok = check_factor(db, user, method, value)
        if ok:
            token = stamp_and_rotate(db, session.id, method)
        else:
            failures = record_failed_confirmation(db, session.id)
            if failures >= settings.max_failed_confirmations:
                delete_session(db, session.id)
    if not ok:
        if failures >= settings.max_failed_confirmations:
            clear_cookies(response)
            raise ApiError(
                401,
                "Too many failed confirmations: this session has been signed out",
                "session_revoked",
            )
        raise ApiError(401, "Invalid credentials", "invalid_credentials")
    set_session_cookie(response, token, settings)
    expires_at = window_ends(utcnow(), settings.reauth_window_seconds)
    return {
        "message": "Identity confirmed.",
        "expires_in": settings.reauth_window_seconds,
        "expires_at": to_iso(expires_at) if expires_at else None,
    }


@router.get("/verify-email")
def verify_email(token: str, db: DB) -> dict[str, str]:
    with transaction(db):
        accounts.verify_email(db, token[:256])
    return {"message": "Email verified."}


@router.post("/auth/password-reset", status_code=202)
def request_password_reset(body: EmailOnly, db: DB, settings: SettingsDep) -> dict[str, str]:
    """Recovery mail goes to the account's current address: whoever reads that inbox can take
    the account over, which is why an unverified address must never be trusted."""
    email = accounts.normalize_email(body.email)
    user = accounts.find_user_by_email(db, email) if email else None
    if user is not None:
        with transaction(db):
            token = accounts.issue_email_token(db, user.id, "reset_password", user.email)
            link = f"{settings.origin}/reset-password?token={token}"
            send_mail(
                db,
                user.email,
                "Reset your password",
                f"Open this link to choose a new password:\n{link}",
                link,
            )
    return {"message": "If that address has an account, a reset link is on its way."}


@router.post("/auth/password-reset/complete")
def complete_password_reset(body: PasswordReset, db: DB, settings: SettingsDep) -> dict[str, str]:
    try:
        password_hash = hash_password(body.new_password, settings.bcrypt_rounds)
    except PasswordRejected as exc:
        raise ApiError(400, str(exc), "weak_password") from None
    with transaction(db):
        row = accounts.consume_email_token(db, body.token, "reset_password")
        db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, row["user_id"])
        )
        db.execute("DELETE FROM sessions WHERE user_id = ?", (row["user_id"],))
    return {"message": "Password changed. Sign in with your new password."}
