"""The guards, as small FastAPI dependencies that build on each other.

    get_session → get_current_user → require_recent_auth
    get_current_user → require_verified_email
    get_current_user → get_membership → require_org_settings / require_org_members

Each is exported once as an ``Annotated`` alias, so a route reads like a sentence:
``def change_email(body: EmailChange, user: CurrentUser, _: RecentAuth, db: DB)``. Every
route asks in one order: who are you (session), what may you do (permission), is your address
proven, did you prove it is you recently (step-up).

A guard's answer is read before the route's transaction starts. So each guard also leaves a
watch on the request's connection (``course_app/db.py``): when the route's transaction takes
the write lock, the session's cookie, the user's address and password and the member's role
must still be what the guard saw, or nothing is written (409 ``superseded``, 401, 404 or 403).
"""

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from course_app import audit
from course_app.accounts import get_user
from course_app.audit import Audit
from course_app.clock import from_iso, to_iso, utcnow
from course_app.db import Connection, RowWatch, add_watch, connect
from course_app.errors import (
    ApiError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ReauthRequired,
    Superseded,
)
from course_app.identity import available_methods
from course_app.models import ApiKeyPrincipal, Membership, Session, User
from course_app.permissions import find_membership, has_permission
from course_app.security.recency import is_recent
from course_app.security.tokens import hash_token
from course_app.sessions import COOKIE, TOUCH_EVERY, best_effort, load_session
from course_app.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_db(request: Request, settings: SettingsDep) -> Iterator[sqlite3.Connection]:
    """One connection per request, closed afterwards (an open transaction rolls back). An
    exercise route's audit entry rides on it (``audit.watch_route``)."""
    conn = connect(settings.db_path)
    audit.watch_route(conn, request)
    try:
        yield conn
    finally:
        conn.close()


DB = Annotated[sqlite3.Connection, Depends(get_db)]


def get_session(request: Request, db: DB, settings: SettingsDep) -> Session:
    """Step 1a: which session is this? 401 without a live session cookie."""
    token = request.cookies.get(COOKIE)
    session = load_session(db, token, settings) if token else None
    if session is None:
        raise NotAuthenticated()
    if isinstance(db, Connection):
        db.user_id = session.user_id
    # Another request of this session (a double click, a parallel password change) may
    # rotate the cookie or sign the session out before this one writes.
    add_watch(
        db,
        RowWatch(
            "SELECT token_hash FROM sessions WHERE id = ?",
            (session.id,),
            (hash_token(token or ""),),
            NotAuthenticated,
            Superseded,
        ),
    )
    return session


CurrentSession = Annotated[Session, Depends(get_session)]


def get_current_user(session: CurrentSession, db: DB) -> User:
    """Step 1: who are you?"""
    user = get_user(db, session.user_id)
    if user is None:
        raise NotAuthenticated()
    # The notice of a change goes to the address it replaced, not to one a parallel change
    # already replaced; of two parallel password changes, one wins.
    add_watch(
        db,
        RowWatch(
            "SELECT email, email_verified, password_hash FROM users WHERE id = ?",
            (user.id,),
            (user.email, int(user.email_verified), user.password_hash),
            NotAuthenticated,
            lambda: Superseded("Your account's address or password changed meanwhile; try again"),
        ),
    )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_recent_auth(
    session: CurrentSession, user: CurrentUser, db: DB, settings: SettingsDep
) -> Session:
    """Step 2: prove it recently. The stamp belongs to this session, not to the user:
    confirming in one browser does not unlock another."""
    if not is_recent(session.confirmed_at, utcnow(), settings.reauth_window_seconds):
        raise ReauthRequired(settings.reauth_window_seconds, available_methods(db, user))
    return session


RecentAuth = Annotated[Session, Depends(require_recent_auth)]


class EmailUnverified(ApiError):
    def __init__(self) -> None:
        super().__init__(
            403, "Verify your email address first: open the link we sent you", "email_unverified"
        )


def require_verified_email(user: CurrentUser) -> User:
    """Whoever signed up with an address they do not read must not build anything on the
    account (factors, orgs, API keys): the inbox's real owner may claim it later."""
    if not user.email_verified:
        raise EmailUnverified()
    return user


VerifiedUser = Annotated[User, Depends(require_verified_email)]


def get_membership(org_id: int, user: CurrentUser, db: DB) -> Membership:
    """The caller's membership of ``org_id``; 404 (not 403) so outsiders learn nothing."""
    membership = find_membership(db, org_id, user.id)
    if membership is None:
        raise NotFound("Organization not found")
    # A member removed or demoted meanwhile commits nothing with the power they lost.
    add_watch(
        db,
        RowWatch(
            "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?",
            (org_id, user.id),
            (membership.role,),
            lambda: NotFound("Organization not found"),
            lambda: Forbidden("Your role in this organization changed meanwhile; nothing was done"),
        ),
    )
    return membership


OrgMember = Annotated[Membership, Depends(get_membership)]


def require_org_settings(member: OrgMember, user: CurrentUser) -> Membership:
    """Authorization: may this member change the org's settings (API keys among them)?
    Only from a verified address: an API key outlives the session that minted it."""
    if not has_permission(member.role, "org:settings"):
        raise Forbidden()
    require_verified_email(user)
    return member


OrgSettingsMember = Annotated[Membership, Depends(require_org_settings)]


def require_org_members(member: OrgMember, user: CurrentUser) -> Membership:
    """Authorization: may this member invite people and change roles?"""
    if not has_permission(member.role, "org:members"):
        raise Forbidden()
    require_verified_email(user)
    return member


OrgMembersManager = Annotated[Membership, Depends(require_org_members)]


def require_member_removal(user_id: int, member: OrgMember, user: CurrentUser) -> Membership:
    """``DELETE /orgs/{org_id}/members/{user_id}``: leaving is anyone's right; removing
    someone else needs ``org:members`` from a verified address, like every other membership
    change, and is refused *before* the step-up is asked for."""
    if user_id != member.user_id:
        require_org_members(member, user)
    return member


MemberRemover = Annotated[Membership, Depends(require_member_removal)]


def get_api_key(request: Request, db: DB) -> ApiKeyPrincipal:
    """``Authorization: Bearer sk_…``. A key names an org, never a session, so it can never
    pass ``require_recent_auth``."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "API key required", "not_authenticated")
    row = db.execute(
        "SELECT id, org_id, last_used_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        (hash_token(secret.strip()),),
    ).fetchone()
    if row is None:
        raise ApiError(401, "Invalid API key", "not_authenticated")
    now = utcnow()
    if row["last_used_at"] is None or now - from_iso(row["last_used_at"]) >= TOUCH_EVERY:
        # Like a session's last_seen_at: at most one write a minute, not one per request.
        best_effort(db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", to_iso(now), row["id"])
    return ApiKeyPrincipal(key_id=row["id"], org_id=row["org_id"])


ApiKeyAuth = Annotated[ApiKeyPrincipal, Depends(get_api_key)]


def get_rejection_rounds(request: Request, settings: SettingsDep) -> int:
    """The bcrypt cost every wrong password costs: the current cost, or the highest cost
    among the hashes stored when the app started if that is higher (``create_app``). New
    hashes only ever get the current cost, so this holds for the app's whole life."""
    return max(settings.bcrypt_rounds, getattr(request.app.state, "highest_rounds", 0))


RejectionRounds = Annotated[int, Depends(get_rejection_rounds)]


def get_audit(request: Request, db: DB) -> Audit:
    return Audit(db, request.client.host if request.client else "")


AuditTrail = Annotated[Audit, Depends(get_audit)]
