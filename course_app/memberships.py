"""Who belongs to an org, and who may change that.

Membership and role changes are as sensitive as minting an API key: a role with
``org:settings`` mints keys and moves the verified domain. So the routes ask for a recent
confirmation, and every change is written to the security log of the people concerned and
mailed to the org's owners and to the member. The rules, checked under the write lock:

- Adding someone is an invitation; it becomes a membership only when they accept it, signed in
  with that address verified (or they join by the org's verified domain).
- Only an owner grants, changes or takes away the owner role, and only an owner changes or
  revokes an invitation to be owner (re-inviting the same address counts as changing it).
- An admin manages members and admins; an owner manages everyone.
- Anyone may leave. No change may leave an org without an owner.
- Power ends with the role: when a member is removed (or leaves, or is demoted), their pending
  invitations above what they may still grant are revoked, and so are the API keys they
  created for the org once they may no longer mint keys there (:func:`end_power`).
- The caller's own role is checked again under the write lock (the watch ``get_membership``
  leaves, ``course_app/deps.py``): a member removed a moment ago commits nothing.

Every function here runs inside the caller's transaction.
"""

import sqlite3
from datetime import timedelta
from typing import Any

from course_app.audit import Audit
from course_app.clock import now_iso, to_iso, utcnow
from course_app.errors import ApiError, Forbidden, NotFound
from course_app.mail import quote, send_mail
from course_app.models import Membership, User
from course_app.permissions import has_permission

INVITATION_TTL = timedelta(days=7)


def org_name(db: sqlite3.Connection, org_id: int) -> str:
    row = db.execute("SELECT name FROM orgs WHERE id = ?", (org_id,)).fetchone()
    if row is None:
        raise NotFound("Organization not found")
    return str(row["name"])


def members(db: sqlite3.Connection, org_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT u.id AS user_id, u.email, m.role FROM memberships m JOIN users u"
        " ON u.id = m.user_id WHERE m.org_id = ? ORDER BY u.id",
        (org_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def pending_invitations(db: sqlite3.Connection, org_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, email, role, created_at, expires_at FROM invitations"
        " WHERE org_id = ? AND expires_at > ? ORDER BY id",
        (org_id, now_iso()),
    ).fetchall()
    return [dict(row) for row in rows]


def _owner_addresses(db: sqlite3.Connection, org_id: int) -> list[str]:
    rows = db.execute(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.org_id = ? AND m.role = 'owner' ORDER BY u.id",
        (org_id,),
    ).fetchall()
    return [row["email"] for row in rows]


def _announce(
    db: sqlite3.Connection,
    org_id: int,
    subject: str,
    text: str,
    also: list[str],
) -> None:
    """Mail ``text`` to the org's owners (as they are after the change) and to ``also``."""
    sent: set[str] = set()
    for address in _owner_addresses(db, org_id) + also:
        if address.lower() not in sent:
            sent.add(address.lower())
            send_mail(db, address, subject, text)


def _email_of(db: sqlite3.Connection, user_id: int) -> str:
    row = db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return str(row["email"]) if row else ""


def _owner_invitation_guard(manager: Membership, role: str) -> None:
    """An invitation to be owner is an owner's to make, change or revoke."""
    if role == "owner" and manager.role != "owner":
        raise ApiError(
            403, "Only an owner can invite an owner or change such an invitation", "forbidden"
        )


def invite(
    db: sqlite3.Connection,
    audit: Audit,
    manager: Membership,
    email: str,
    role: str,
    link: str | None = None,
) -> dict[str, Any]:
    """Record (or renew) an invitation and mail it, with ``link`` to the page where it is
    answered. The answer is the same whether or not an account uses ``email``: inviting is
    no way to find out who has an account."""
    _owner_invitation_guard(manager, role)
    pending = db.execute(
        "SELECT role FROM invitations WHERE org_id = ? AND email = ? COLLATE NOCASE",
        (manager.org_id, email),
    ).fetchone()
    if pending is not None:  # re-inviting rewrites it: as much a change as revoking it
        _owner_invitation_guard(manager, pending["role"])
    already = db.execute(
        "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.org_id = ? AND u.email = ? COLLATE NOCASE",
        (manager.org_id, email),
    ).fetchone()
    if already:  # the manager sees the member list anyway: this tells them nothing new
        raise ApiError(
            409,
            "Already a member: change their role with PATCH /orgs/{org_id}/members/{user_id}",
            "already_member",
        )
    now = utcnow()
    expires_at = to_iso(now + INVITATION_TTL)
    db.execute(
        "INSERT INTO invitations (org_id, email, role, invited_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, email) DO UPDATE SET"
        " role = excluded.role, invited_by = excluded.invited_by,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at",
        (manager.org_id, email, role, manager.user_id, to_iso(now), expires_at),
    )
    name = quote(org_name(db, manager.org_id))
    inviter = _email_of(db, manager.user_id)
    audit.record(manager.user_id, "member_invited", f"org {manager.org_id}: {email} as {role}")
    send_mail(
        db,
        email,
        f"You are invited to join an organization as {role}",
        f"{inviter} invited this address to the organization {name} as {role}. Sign in (or"
        " sign up) with this address, verify it, and accept or decline the invitation at the"
        " link below within 7 days. If you do not know them, ignore this mail.",
        link,
    )
    _announce(
        db,
        manager.org_id,
        f"Someone was invited to {name}",
        f"{inviter} invited {email} to the organization {name} as {role}. If this was not"
        " meant to happen, revoke the invitation and confirm who can manage members.",
        [],
    )
    return {"org_id": manager.org_id, "email": email, "role": role, "expires_at": expires_at}


def invitations_for(db: sqlite3.Connection, user: User) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT i.id, i.org_id, o.name AS org_name, i.role, i.expires_at FROM invitations i"
        " JOIN orgs o ON o.id = i.org_id WHERE i.email = ? COLLATE NOCASE AND i.expires_at > ?"
        " ORDER BY i.id",
        (user.email, now_iso()),
    ).fetchall()
    return [dict(row) for row in rows]


def _invitation(db: sqlite3.Connection, invitation_id: int, user: User) -> sqlite3.Row:
    """An unexpired invitation to this user's (verified) address; 404 for anyone else's."""
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM invitations WHERE id = ? AND email = ? COLLATE NOCASE AND expires_at > ?",
        (invitation_id, user.email, now_iso()),
    ).fetchone()
    if row is None:
        raise NotFound("Invitation not found")
    return row


def join(
    db: sqlite3.Connection, audit: Audit, org_id: int, user: User, role: str, how: str
) -> Membership:
    """Make ``user`` a member (they asked for it: an accepted invitation or a domain join)."""
    cur = db.execute(
        "INSERT OR IGNORE INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)",
        (org_id, user.id, role),
    )
    if cur.rowcount == 0:
        raise ApiError(409, "You are already a member", "already_member")
    audit.record(user.id, "org_joined", f"org {org_id} as {role}, {how}")
    name = quote(org_name(db, org_id))
    _announce(
        db,
        org_id,
        f"{user.email} joined {name} as {role}",
        f"{user.email} joined the organization {name} as {role}, {how}.",
        [user.email],
    )
    return Membership(org_id, user.id, role)


def accept(db: sqlite3.Connection, audit: Audit, invitation_id: int, user: User) -> Membership:
    row = _invitation(db, invitation_id, user)
    db.execute("DELETE FROM invitations WHERE id = ?", (row["id"],))
    joined = join(db, audit, row["org_id"], user, row["role"], "invited")
    if row["invited_by"] is not None:
        detail = f"org {joined.org_id}: {user.email} as {joined.role}"
        audit.record(row["invited_by"], "member_added", detail)
    return joined


def decline(db: sqlite3.Connection, invitation_id: int, user: User) -> None:
    row = _invitation(db, invitation_id, user)
    db.execute("DELETE FROM invitations WHERE id = ?", (row["id"],))


def revoke_invitation(
    db: sqlite3.Connection, audit: Audit, manager: Membership, invitation_id: int
) -> None:
    row = db.execute(
        "SELECT email, role FROM invitations WHERE id = ? AND org_id = ?",
        (invitation_id, manager.org_id),
    ).fetchone()
    if row is None:
        raise NotFound("Invitation not found")
    _owner_invitation_guard(manager, row["role"])
    db.execute("DELETE FROM invitations WHERE id = ?", (invitation_id,))
    audit.record(manager.user_id, "invitation_revoked", f"org {manager.org_id}: {row['email']}")


def _target(db: sqlite3.Connection, org_id: int, user_id: int) -> Membership:
    row = db.execute(
        "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id)
    ).fetchone()
    if row is None:
        raise NotFound("Member not found")
    return Membership(org_id, user_id, row["role"])


def _may_manage(actor: Membership, target: Membership, new_role: str | None) -> None:
    """Raise 403 unless ``actor`` may give ``target`` the ``new_role`` (None: remove them)."""
    if actor.user_id == target.user_id and new_role is None:
        return  # anyone may leave (the last owner is stopped by _keep_an_owner)
    if not has_permission(actor.role, "org:members"):
        raise Forbidden()
    if "owner" in (target.role, new_role) and actor.role != "owner":
        raise ApiError(403, "Only an owner can change an owner's role", "forbidden")


def _keep_an_owner(db: sqlite3.Connection, target: Membership, new_role: str | None) -> None:
    if target.role != "owner" or new_role == "owner":
        return
    others = db.execute(
        "SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = 'owner' AND user_id != ?",
        (target.org_id, target.user_id),
    ).fetchone()[0]
    if others == 0:
        raise ApiError(
            409, "An organization needs an owner: make someone else an owner first", "last_owner"
        )


def change_role(
    db: sqlite3.Connection, audit: Audit, actor: Membership, user_id: int, role: str
) -> Membership:
    target = _target(db, actor.org_id, user_id)
    _may_manage(actor, target, role)
    if target.role == role:
        return target
    _keep_an_owner(db, target, role)
    db.execute(
        "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?",
        (role, actor.org_id, user_id),
    )
    end_power(db, audit, actor, user_id, role)
    email = _email_of(db, user_id)
    detail = f"org {actor.org_id}: {email} from {target.role} to {role}"
    audit.record(actor.user_id, "member_role_changed", detail)
    if user_id != actor.user_id:
        audit.record(user_id, "member_role_changed", detail)
    name = quote(org_name(db, actor.org_id))
    _announce(
        db,
        actor.org_id,
        f"A role changed in {name}",
        f"{_email_of(db, actor.user_id)} changed the role of {email} in the organization"
        f" {name} from {target.role} to {role}.",
        [email],
    )
    return Membership(actor.org_id, user_id, role)


def remove(db: sqlite3.Connection, audit: Audit, actor: Membership, user_id: int) -> None:
    target = _target(db, actor.org_id, user_id)
    _may_manage(actor, target, None)
    _keep_an_owner(db, target, None)
    name = quote(org_name(db, actor.org_id))
    email = _email_of(db, user_id)
    db.execute("DELETE FROM memberships WHERE org_id = ? AND user_id = ?", (actor.org_id, user_id))
    end_power(db, audit, actor, user_id, None)
    left = user_id == actor.user_id
    detail = f"org {actor.org_id}: {email} ({target.role})" + (", left" if left else "")
    audit.record(actor.user_id, "member_removed", detail)
    if not left:
        audit.record(user_id, "member_removed", detail)
    who = "left" if left else f"was removed by {_email_of(db, actor.user_id)}"
    _announce(
        db,
        actor.org_id,
        f"{email} is no longer in {name}",
        f"{email} ({target.role}) {who} from the organization {name}.",
        [email],
    )


def grantable(role: str | None) -> tuple[str, ...]:
    """The invitation roles a member with ``role`` may hand out (None: not a member)."""
    if role is None or not has_permission(role, "org:members"):
        return ()
    return ("owner", "admin", "member") if role == "owner" else ("admin", "member")


def end_power(
    db: sqlite3.Connection, audit: Audit, actor: Membership, user_id: int, role: str | None
) -> None:
    """``user_id`` now holds ``role`` in the actor's org (None: no longer a member). What they
    set up with the power they lost goes: their pending invitations to roles they may no longer
    grant, and, once they may no longer mint API keys here, the keys they minted. (Keys belong
    to whoever may answer for them: an org that wants a key to outlive its creator's role has
    a current admin mint it.)"""
    org_id = actor.org_id
    allowed = grantable(role)
    marks = ", ".join("?" for _ in allowed)
    beyond = f" AND role NOT IN ({marks})" if allowed else ""  # NOT IN () is no SQL
    invitations = db.execute(
        f"DELETE FROM invitations WHERE org_id = ? AND invited_by = ?{beyond}"
        " RETURNING email, role",
        (org_id, user_id, *allowed),
    ).fetchall()
    keys: list[sqlite3.Row] = []
    if role is None or not has_permission(role, "org:settings"):
        keys = db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND created_by = ?"
            " AND revoked_at IS NULL RETURNING id",
            (now_iso(), org_id, user_id),
        ).fetchall()
    if not invitations and not keys:
        return
    parts = [f"invitation of {row['email']} as {row['role']}" for row in invitations]
    parts += [f"API key {row['id']}" for row in keys]
    detail = f"org {org_id}: revoked with {_email_of(db, user_id)}'s role: " + ", ".join(parts)
    audit.record(actor.user_id, "power_revoked", detail)
    if user_id != actor.user_id:
        audit.record(user_id, "power_revoked", detail)
