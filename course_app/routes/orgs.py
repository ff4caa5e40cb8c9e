"""Organisations, roles, domain auto-join, and the read side of API keys."""

from typing import Any

from fastapi import APIRouter

from course_app import accounts
from course_app.audit import AuditTrail
from course_app.clock import now_iso
from course_app.db import transaction
from course_app.deps import (
    DB,
    ApiKeyAuth,
    CurrentUser,
    OrgMember,
    OrgMembersManager,
    OrgSettingsMember,
    RecentAuth,
)
from course_app.errors import ApiError, NotFound
from course_app.schemas import DomainSet, MemberAdd, OrgCreate

router = APIRouter(tags=["orgs"])


def _org(db: DB, org_id: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, name, verified_domain FROM orgs WHERE id = ?", (org_id,)
    ).fetchone()
    if row is None:
        raise NotFound("Organization not found")
    return dict(row)


@router.post("/orgs", status_code=201)
def create_org(body: OrgCreate, user: CurrentUser, db: DB) -> dict[str, Any]:
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


@router.post("/orgs/{org_id}/members", status_code=201)
def add_member(body: MemberAdd, manager: OrgMembersManager, db: DB) -> dict[str, Any]:
    email = accounts.normalize_email(body.email)
    user = accounts.find_user_by_email(db, email) if email else None
    if user is None:
        raise NotFound("No account uses that email address")
    if body.role == "owner" and manager.role != "owner":
        raise ApiError(403, "Only an owner can make someone an owner", "forbidden")
    with transaction(db):
        cur = db.execute(
            "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)"
            " ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role"
            " WHERE memberships.role != 'owner'",
            (manager.org_id, user.id, body.role),
        )
    if cur.rowcount == 0:
        raise ApiError(409, "The owner's role cannot be changed", "owner_role")
    return {"org_id": manager.org_id, "user_id": user.id, "email": user.email, "role": body.role}


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
def join_by_domain(org_id: int, user: CurrentUser, db: DB) -> dict[str, Any]:
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
        cur = db.execute(
            "INSERT OR IGNORE INTO memberships (org_id, user_id, role) VALUES (?, ?, 'member')",
            (org_id, user.id),
        )
    if cur.rowcount == 0:
        raise ApiError(409, "You are already a member", "already_member")
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
