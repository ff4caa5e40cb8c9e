"""Organisations, members and roles (invitations, role changes, removal: all step-up), domain
auto-join, and the read side of API keys."""

from typing import Any

from fastapi import APIRouter

from course_app import accounts, memberships, ratelimit
from course_app.clock import now_iso
from course_app.db import transaction
from course_app.deps import (
    DB,
    ApiKeyAuth,
    AuditTrail,
    CurrentUser,
    MemberRemover,
    OrgMember,
    OrgMembersManager,
    OrgSettingsMember,
    RecentAuth,
    SettingsDep,
    StepUp,
    StepUpRule,
    VerifiedUser,
)
from course_app.errors import ApiError, NotFound
from course_app.models import Membership
from course_app.schemas import DomainSet, MemberAdd, OrgCreate, RoleChange, RowId

router = APIRouter(tags=["orgs"])


def _org(db: DB, org_id: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, name, verified_domain FROM orgs WHERE id = ?", (org_id,)
    ).fetchone()
    if row is None:
        raise NotFound("Organization not found")
    return dict(row)


@router.post("/orgs", status_code=201)
def create_org(body: OrgCreate, user: VerifiedUser, db: DB) -> dict[str, Any]:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO orgs (name, created_at) VALUES (?, ?)", (body.name.strip(), now_iso())
        )
        org_id = int(cur.lastrowid or 0)
        db.execute(
            "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'owner')",
            (org_id, user.id),
        )
    return {"id": org_id, "name": body.name.strip(), "role": "owner"}


@router.get("/orgs")
def list_orgs(user: CurrentUser, db: DB) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT o.id, o.name, m.role FROM orgs o JOIN memberships m ON m.org_id = o.id"
        " WHERE m.user_id = ? ORDER BY o.id",
        (user.id,),
    ).fetchall()
    return [dict(row) for row in rows]


@router.get("/orgs/{org_id}")
def get_org(member: OrgMember, db: DB) -> dict[str, Any]:
    return _org(db, member.org_id) | {"role": member.role}


@router.get("/orgs/{org_id}/members")
def list_members(manager: OrgMembersManager, db: DB) -> dict[str, Any]:
    return {
        "members": memberships.members(db, manager.org_id),
        "invitations": memberships.pending_invitations(db, manager.org_id),
    }


def require_for_owner(role: str, manager: Membership, step_up: StepUp) -> None:
    """Making someone an owner hands them the org: the policy's ``grant_owner`` on top of the
    route's own action. Only owners may (``memberships``); anyone else is refused as
    ``forbidden`` there, without being asked to confirm first."""
    if role == "owner" and manager.role == "owner":
        step_up.require("grant_owner")


@router.post("/orgs/{org_id}/members", status_code=202)
def invite_member(
    body: MemberAdd,
    manager: OrgMembersManager,
    _: RecentAuth,
    step_up: StepUpRule,
    db: DB,
    audit: AuditTrail,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Invite someone. The same answer whether or not the address has an account; they
    become a member only when they accept (``POST /me/invitations/{id}/accept``), on the
    page the mail links to. Each one mails an address the inviter need not own: limited per
    address and per inviter, like sign-up and reset mail."""
    require_for_owner(body.role, manager, step_up)
    email = accounts.normalize_email(body.email)
    if email is None:
        raise ApiError(400, "A valid email address is required", "invalid_email")
    inviter = f"user:{manager.user_id}"
    link = f"{settings.origin}/invitations"
    with transaction(db):
        invitation = memberships.invite(db, audit, manager, email, body.role, link)
        ratelimit.count_mail_request(db, "invite", email, inviter, settings, record=True)
    return invitation | {"message": f"Invitation sent to {email}."}


@router.delete("/orgs/{org_id}/invitations/{invitation_id}", status_code=204)
def revoke_invitation(
    invitation_id: RowId, manager: OrgMembersManager, _: RecentAuth, db: DB, audit: AuditTrail
) -> None:
    with transaction(db):
        memberships.revoke_invitation(db, audit, manager, invitation_id)


@router.patch("/orgs/{org_id}/members/{user_id}")
def change_role(
    user_id: RowId,
    body: RoleChange,
    manager: OrgMembersManager,
    _: RecentAuth,
    step_up: StepUpRule,
    db: DB,
    audit: AuditTrail,
) -> dict[str, Any]:
    require_for_owner(body.role, manager, step_up)
    with transaction(db):
        changed = memberships.change_role(db, audit, manager, user_id, body.role)
    return {"org_id": changed.org_id, "user_id": changed.user_id, "role": changed.role}


@router.delete("/orgs/{org_id}/members/{user_id}", status_code=204)
def remove_member(
    user_id: RowId, member: MemberRemover, _: RecentAuth, db: DB, audit: AuditTrail
) -> None:
    """Remove a member (``org:members``, from a verified address), or leave (your own user
    id). Permission first: a member who may not remove others is told so without being
    asked to confirm."""
    with transaction(db):
        memberships.remove(db, audit, member, user_id)


@router.get("/me/invitations")
def my_invitations(user: VerifiedUser, db: DB) -> list[dict[str, Any]]:
    return memberships.invitations_for(db, user)


@router.post("/me/invitations/{invitation_id}/accept", status_code=201)
def accept_invitation(
    invitation_id: RowId, user: VerifiedUser, db: DB, audit: AuditTrail
) -> dict[str, Any]:
    """Consent: only the person who proved they read the invited address can say yes."""
    with transaction(db):
        joined = memberships.accept(db, audit, invitation_id, user)
    return {"org_id": joined.org_id, "user_id": joined.user_id, "role": joined.role}


@router.post("/me/invitations/{invitation_id}/decline", status_code=204)
def decline_invitation(invitation_id: RowId, user: VerifiedUser, db: DB) -> None:
    with transaction(db):
        memberships.decline(db, invitation_id, user)


@router.put("/orgs/{org_id}/verified-domain")
def set_verified_domain(
    body: DomainSet, admin: OrgSettingsMember, _: RecentAuth, db: DB, audit: AuditTrail
) -> dict[str, Any]:
    """Let anyone whose *verified* address is at ``domain`` join. Sensitive: step-up."""
    domain = None
    if body.domain:
        checked = accounts.normalize_email(f"postmaster@{body.domain.strip()}")
        if checked is None:
            raise ApiError(400, "A valid domain name is required", "invalid_domain")
        domain = checked.split("@", 1)[1]
    with transaction(db):
        db.execute("UPDATE orgs SET verified_domain = ? WHERE id = ?", (domain, admin.org_id))
        audit.record(admin.user_id, "org_domain_changed", f"org {admin.org_id}: {domain or 'none'}")
    return _org(db, admin.org_id)


@router.post("/orgs/{org_id}/join", status_code=201)
def join_by_domain(org_id: RowId, user: CurrentUser, db: DB, audit: AuditTrail) -> dict[str, Any]:
    """Domain auto-join trusts one thing: that the user *proved* they read mail at the domain."""
    org = _org(db, org_id)
    domain = org["verified_domain"]
    if not domain:
        raise NotFound("Organization not found")
    if user.email.rsplit("@", 1)[1].lower() != domain:
        raise ApiError(403, f"Only people with an @{domain} address may join", "forbidden")
    if not user.email_verified:
        raise ApiError(403, f"Verify your @{domain} address before joining", "email_unverified")
    with transaction(db):
        memberships.join(db, audit, org_id, user, "member", f"by the verified domain {domain}")
    return {"org_id": org_id, "role": "member"}


@router.get("/orgs/{org_id}/api-keys")
def list_api_keys(admin: OrgSettingsMember, db: DB) -> list[dict[str, Any]]:
    """Names and prefixes only: the secret was shown once, at creation, and is not stored."""
    rows = db.execute(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys"
        " WHERE org_id = ? ORDER BY id",
        (admin.org_id,),
    ).fetchall()
    return [dict(row) for row in rows]


@router.get("/api/org")
def api_org(key: ApiKeyAuth, db: DB) -> dict[str, Any]:
    """What an API key may do: read its org. It can never create or revoke keys."""
    org = _org(db, key.org_id)
    return {"id": org["id"], "name": org["name"], "key_id": key.key_id}
