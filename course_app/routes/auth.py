"""Sign-up, sign-in (with an optional second factor), sign-out, and identity confirmation."""

import sqlite3
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from course_app import accounts, ratelimit
from course_app.clock import from_iso, now_iso, utcnow
from course_app.confirmation import (
    confirm_password,
    confirmation_answer,
    failures_so_far,
    settle_confirmation,
)
from course_app.cookies import clear_cookies, set_pending_cookie, set_session_cookie
from course_app.db import transaction
from course_app.deps import (
    DB,
    AuditTrail,
    CurrentSession,
    CurrentUser,
    RejectionRounds,
    SettingsDep,
)
from course_app.errors import ApiError
from course_app.identity import (
    CODE_ALREADY_USED,
    check_code,
    check_password,
    code_already_used,
    pick_one,
)
from course_app.mail import send_mail
from course_app.models import User
from course_app.routes.pages import notice_page
from course_app.schemas import Confirmation, Credentials, EmailOnly, PasswordReset, SecondFactor
from course_app.security.passwords import (
    PasswordRejected,
    burn_time,
    hash_password,
    needs_rehash,
    rehash,
)
from course_app.security.tokens import hash_token, new_token
from course_app.sessions import (
    COOKIE,
    PENDING_COOKIE,
    PENDING_TTL,
    create_session,
    delete_other_sessions,
    delete_session,
    end_previous_session,
    load_session,
)

router = APIRouter(tags=["auth"])


class Message(BaseModel):
    message: str


INVALID_LOGIN = "Invalid email or password"
MAX_PENDING_ATTEMPTS = 5


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


@router.post("/auth/signup", status_code=201)
def signup(
    body: Credentials, request: Request, db: DB, settings: SettingsDep, audit: AuditTrail
) -> dict[str, Any]:
    email = accounts.normalize_email(body.email)
    if email is None:
        raise ApiError(400, "A valid email address is required", "invalid_email")
    # Each sign-up mails a link to an address the caller need not own: limited like resets
    # (checked before bcrypt runs, counted with the sign-up).
    client = ratelimit.client_key(request)
    ratelimit.count_mail_request(db, "signup", email, client, settings, record=False)
    try:
        password_hash = hash_password(body.password, settings.bcrypt_rounds)
    except PasswordRejected as exc:
        raise ApiError(400, str(exc), "weak_password") from None
    with transaction(db):
        # An address someone else holds without having proven it reserves nothing.
        accounts.release_unproven(db, audit, email)
        if accounts.email_taken(db, email):
            raise ApiError(409, "Email already in use", "email_taken")
        ratelimit.count_mail_request(db, "signup", email, client, settings, record=True)
        user_id = accounts.create_user(db, email, password_hash)
        accounts.send_verification(db, user_id, email, settings.origin)
        audit.record(user_id, "account_created")
    return {"id": user_id, "email": email, "message": "Account created. Check your inbox."}


@router.post("/auth/login")
def login(
    body: Credentials,
    request: Request,
    response: Response,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
    rounds: RejectionRounds,
) -> dict[str, Any]:
    email = accounts.normalize_email(body.email)
    typed = email or body.email
    # 429 here when at a limit; otherwise the check holds a slot until it is settled.
    attempt = ratelimit.begin_login_attempt(db, typed, ratelimit.client_key(request), settings)
    user = accounts.find_user_by_email(db, email) if email else None
    if user is None:
        burn_time(body.password, rounds)
    if user is None or not check_password(user, body.password, rounds):
        with transaction(db):  # a failure counts once it is one, with its entry
            ratelimit.settle_login(db, attempt, right=False)
            if user is not None:
                audit.record(user.id, "sign_in_failed", "wrong password")
        raise ApiError(401, INVALID_LOGIN, "invalid_credentials")
    # STEPUP_BCRYPT_ROUNDS changed since this hash was made: store it at the current cost
    # (bcrypt outside the transaction, like every other bcrypt run).
    new_hash = (
        rehash(body.password, settings.bcrypt_rounds)
        if needs_rehash(user.password_hash, settings.bcrypt_rounds)
        else None
    )
    if user.totp_enabled:
        token = new_token()
        with transaction(db):
            _password_accepted(db, user, attempt, new_hash)
            db.execute(
                "INSERT INTO pending_logins (token_hash, user_id, created_at) VALUES (?, ?, ?)",
                (hash_token(token), user.id, now_iso()),
            )
        set_pending_cookie(response, token, settings)
        return {"two_factor_required": True, "message": "Enter the code from your authenticator."}
    stamp = "password" if settings.login_is_recent_auth else None
    with transaction(db):
        _password_accepted(db, user, attempt, new_hash)
        end_previous_session(db, request.cookies.get(COOKIE))
        token = create_session(db, user.id, _user_agent(request), stamp)
        audit.record(user.id, "signed_in", "password")
    set_session_cookie(response, token, settings)
    return {"two_factor_required": False, "message": "Signed in.", "user_id": user.id}


def _password_accepted(
    db: sqlite3.Connection, user: User, attempt: ratelimit.LoginAttempt, new_hash: str | None
) -> None:
    """Inside the sign-in's transaction. bcrypt ran outside it, so a password change (or
    reset) may have committed meanwhile and signed every session out: the password checked
    must still be the account's, or this sign-in would slip in after it."""
    row = db.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,)).fetchone()
    if row is None or row["password_hash"] != user.password_hash:
        raise ApiError(401, INVALID_LOGIN, "invalid_credentials")
    ratelimit.settle_login(db, attempt, right=True)
    if new_hash is not None:
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user.id))


@router.post("/auth/login/2fa")
def login_second_factor(
    body: SecondFactor,
    request: Request,
    response: Response,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
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
        if user is not None:
            ratelimit.guard_codes(db, user.id, settings)
        ok = user is not None and check_code(db, user, method, value)
        if user is not None and not ok and code_already_used(db, user, method, value):
            # A spent code is no guess: say so, and leave the attempts as they were.
            left = MAX_PENDING_ATTEMPTS - row["attempts"]
            raise ApiError(401, CODE_ALREADY_USED[method], "code_already_used", attempts_left=left)
        if user is None or not ok:
            if user is not None:
                ratelimit.record_code_failure(db, user.id)
                audit.record(user.id, "sign_in_failed", f"wrong {method} code")
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
            end_previous_session(db, request.cookies.get(COOKIE))
            session_token = create_session(db, user.id, _user_agent(request), stamp)
            audit.record(user.id, "signed_in", f"password + {method}")
            failed = False
    if failed:
        # Outside the transaction block so the attempt counter above is committed.
        left = MAX_PENDING_ATTEMPTS - attempts
        raise ApiError(401, "Invalid code", "invalid_credentials", attempts_left=left)
    assert user is not None  # not failed: the code was checked against this very user
    set_session_cookie(response, session_token, settings)
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return {"two_factor_required": False, "message": "Signed in.", "user_id": user.id}


@router.post("/auth/logout", status_code=204)
def logout(session: CurrentSession, response: Response, db: DB, audit: AuditTrail) -> None:
    with transaction(db):
        delete_session(db, session.id)
        audit.record(session.user_id, "signed_out")
    clear_cookies(response)


@router.post("/auth/confirm")
def confirm(
    body: Confirmation,
    session: CurrentSession,
    user: CurrentUser,
    request: Request,
    response: Response,
    db: DB,
    settings: SettingsDep,
    audit: AuditTrail,
    rounds: RejectionRounds,
) -> dict[str, Any]:
    """Re-authentication: prove it is still you, and this session is trusted for a while."""
    method, value = pick_one(
        password=body.password, totp=body.code, recovery_code=body.recovery_code
    )
    if method == "password":
        settled = confirm_password(db, audit, session, user, value, settings, rounds)
    else:
        with transaction(db):
            # Under the write lock (and the session watch): concurrent attempts with the same
            # cookie are settled one by one, so a burst of guesses cannot outrun the limit.
            ratelimit.guard_codes(db, user.id, settings)
            ok = check_code(db, user, method, value)
            if not ok and code_already_used(db, user, method, value):
                # A spent code is no guess: say so, and count no failure.
                left = settings.max_failed_confirmations - failures_so_far(db, session.id)
                raise ApiError(
                    401, CODE_ALREADY_USED[method], "code_already_used", attempts_left=left
                )
            if not ok:
                ratelimit.record_code_failure(db, user.id)
            settled = settle_confirmation(db, audit, session, method, ok, settings)
    return confirmation_answer(settled, response, settings)


@router.get("/verify-email", response_model=Message)
def verify_email(
    token: str, request: Request, db: DB, audit: AuditTrail, settings: SettingsDep
) -> Response:
    """JSON for API clients; a page for a person who opened the link from their mail. The
    link of an email change works only for the account it names, signed in (the page names
    that account otherwise)."""
    wants_page = "text/html" in request.headers.get("accept", "")
    cookie = request.cookies.get(COOKIE)
    session = load_session(db, cookie, settings) if cookie else None
    try:
        with transaction(db):
            user_id = accounts.verify_email(db, token[:256], session.user_id if session else None)
            audit.record(user_id, "email_verified")
    except ApiError as exc:
        if not wants_page:
            raise
        return notice_page(request, settings, "This link does not work", exc.message, exc.status)
    if wants_page:
        return notice_page(request, settings, "Email verified", "Your email address is verified.")
    return JSONResponse({"message": "Email verified."})


@router.post("/auth/password-reset", status_code=202)
def request_password_reset(
    body: EmailOnly, request: Request, db: DB, settings: SettingsDep, audit: AuditTrail
) -> dict[str, str]:
    """Recovery mail goes to the account's current address only when that inbox is proven:
    whoever reads it can take the account over, so an unverified address (a typo, or someone
    else's) gets nothing. The answer is the same either way."""
    email = accounts.normalize_email(body.email)
    client = ratelimit.client_key(request)
    with transaction(db):
        # Counted for unknown addresses too: the limit must not tell which accounts exist.
        ratelimit.count_mail_request(
            db, "reset", email or body.email, client, settings, record=True
        )
        user = accounts.find_user_by_email(db, email) if email else None
        if user is not None and accounts.may_receive_recovery(db, user):
            token = accounts.issue_email_token(db, user.id, "reset_password", user.email)
            link = f"{settings.origin}/reset-password?token={token}"
            text = f"Open this link to choose a new password:\n{link}"
            if not user.email_verified:
                text += (
                    "\n\nThis address was used to sign up but never verified. Opening the link"
                    " proves it is yours: every session is signed out, and any second factor,"
                    " passkey or membership set up before is removed."
                )
            send_mail(db, user.email, "Reset your password", text, link)
            audit.record(user.id, "password_reset_requested")
    return {"message": "If that address has an account, a reset link is on its way."}


@router.post("/auth/password-reset/complete")
def complete_password_reset(
    body: PasswordReset, db: DB, settings: SettingsDep, audit: AuditTrail
) -> dict[str, str]:
    try:
        password_hash = hash_password(body.new_password, settings.bcrypt_rounds)
    except PasswordRejected as exc:
        raise ApiError(400, str(exc), "weak_password") from None
    with transaction(db):
        row = accounts.consume_email_token(db, body.token, "reset_password")
        user = accounts.get_user(db, row["user_id"])
        # Like a verification link, a reset link is only good for the address it was sent to,
        # and only while that address may receive recovery mail.
        if (
            user is None
            or user.email.lower() != row["email"].lower()
            or not accounts.may_receive_recovery(db, user)
        ):
            raise ApiError(400, accounts.STALE_LINK, "stale_token")
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user.id))
        if not user.email_verified:
            accounts.claim_by_reset(db, user.id, row["email"])
            audit.record(user.id, "email_verified", "by a password reset; earlier setup removed")
        delete_other_sessions(db, user.id)
        # The reset proved the inbox: a lock guessers put on the sign-in ends with it.
        ratelimit.lift_account_lock(db, user.email)
        audit.record(user.id, "password_reset")
        send_mail(
            db,
            row["email"],
            "Your password was reset",
            "The password of your account was just reset with a link sent to this address, and"
            " every session was signed out. If this was not you, reset it again now.",
        )
    return {"message": "Password changed. Sign in with your new password."}
