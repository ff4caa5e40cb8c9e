"""Organisation roles and what they may do (authorization, checked before step-up)."""

import sqlite3

from course_app.models import Membership

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({"org:settings", "org:members", "org:read"}),
    "admin": frozenset({"org:settings", "org:members", "org:read"}),
    "member": frozenset({"org:read"}),
}


def has_permission(role: str, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def find_membership(db: sqlite3.Connection, org_id: int, user_id: int) -> Membership | None:
    row = db.execute(
        "SELECT org_id, user_id, role FROM memberships WHERE org_id = ? AND user_id = ?",
        (org_id, user_id),
    ).fetchone()
    return Membership(row[0], row[1], row[2]) if row else None
