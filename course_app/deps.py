"""The guards, as small FastAPI dependencies that build on each other.

    get_session → get_current_user → get_step_up → require_recent_auth
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
from course_app.policy import ANY, POLICY, Requirement, level_of, required_level, satisfying
from course_app.schemas import RowId
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


@dataclass(frozen=True)
class StepUp:
    """The step-up rule for this request's session: :meth:`require` an action of the policy
    (``course_app/policy.py``). The guard asks it for the route's own action; a route whose
    action depends on the body (granting owner) or on the account (removing the last passkey)
    asks it once more, by name."""

    session: Session
    user: User
    db: sqlite3.Connection
    window: int
    policy: Mapping[str, Requirement]

    def require(self, action: str) -> None:
        """403 ``reauth_required`` unless this session confirmed recently enough for
        ``action`` with a method of its level. The stamp belongs to this session, not to the
        user: confirming in one browser does not unlock another. A refusal changes nothing:
        a stamp too weak for this action still opens the window for the actions it does
        satisfy, until it expires (it is never restarted nor cleared here)."""
        requirement = self.policy.get(action, ANY)
        # A row may shorten the window, never lengthen it.
        max_age = min(requirement.max_age or self.window, self.window)
        # The account's factors matter only above "any factor" (the level is lowered to
        # what the account has), so most requests skip the two queries.
        methods = available_methods(self.db, self.user) if requirement.level > ANY.level else []
        level = required_level(requirement.level, methods)
        recent = is_recent(self.session.confirmed_at, utcnow(), max_age)
        if recent and level_of(self.session.confirmed_method) >= level:
            return
        asked = satisfying(level, methods or available_methods(self.db, self.user))
        raise ReauthRequired(max_age, asked, level, action)


def get_step_up(
    request: Request, session: CurrentSession, user: CurrentUser, db: DB, settings: SettingsDep
) -> StepUp:
    policy = getattr(request.app.state, "policy", POLICY)  # create_app's, exercise rows laid over
    return StepUp(session, user, db, settings.reauth_window_seconds, policy)


StepUpRule = Annotated[StepUp, Depends(get_step_up)]


def route_action(request: Request) -> str:
    """The action a route stands for in the policy: its name (the function's name, or the
    ``name=`` of its decorator)."""
    return str(getattr(request.scope.get("route"), "name", ""))


def require_recent_auth(request: Request, step_up: StepUpRule) -> Session:
    """Step 2: prove it recently, and strongly enough for this route's action."""
    step_up.require(route_action(request))
    return step_up.session


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


def get_membership(org_id: RowId, user: CurrentUser, db: DB) -> Membership:
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


def require_member_removal(user_id: RowId, member: OrgMember, user: CurrentUser) -> Membership:
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
