"""The guards, as small FastAPI dependencies that build on each other.

    get_session → get_current_user → require_recent_auth
    get_current_user → require_verified_email
    get_current_user → get_membership → require_org_settings / require_org_members

Each is exported once as an ``Annotated`` alias, so a route reads like a sentence:
``def change_email(body: EmailChange, user: CurrentUser, _: RecentAuth, db: DB)``.
"""

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from course_app.accounts import get_user
from course_app.clock import from_iso, to_iso, utcnow
from course_app.db import connect
from course_app.errors import ApiError, Forbidden, NotAuthenticated, NotFound, ReauthRequired
from course_app.identity import available_methods
from course_app.models import ApiKeyPrincipal, Membership, Session, User
from course_app.permissions import find_membership, has_permission
from course_app.security.recency import is_recent
from course_app.security.tokens import hash_token
from course_app.sessions import COOKIE, TOUCH_EVERY, load_session
from course_app.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_db(settings: SettingsDep) -> Iterator[sqlite3.Connection]:
    """One connection per request, closed afterwards (an open transaction rolls back)."""
    conn = connect(settings.db_path)
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
    return session


CurrentSession = Annotated[Session, Depends(get_session)]


def get_current_user(session: CurrentSession, db: DB) -> User:
    """Step 1: who are you?"""
    user = get_user(db, session.user_id)
    if user is None:
        raise NotAuthenticated()
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
        db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_iso(now), row["id"]))
    return ApiKeyPrincipal(key_id=row["id"], org_id=row["org_id"])


ApiKeyAuth = Annotated[ApiKeyPrincipal, Depends(get_api_key)]
