"""Exercise 2: step-up on API key creation (``POST /orgs/{org_id}/api-keys``).

An API key outlives any session: whoever mints one keeps access after the session is gone.
So minting one needs both questions answered, in this order:

    may you? (OrgSettingsMember: org:settings) → prove it recently (RecentAuth) → act.

Authorization comes first: a member who may never create keys gets 403 "forbidden" at once,
instead of being asked to confirm their identity for nothing.
"""

import sqlite3
from typing import Any

from fastapi import APIRouter

from course_app.clock import now_iso
from course_app.db import transaction
from course_app.deps import DB, CurrentUser, OrgSettingsMember, RecentAuth
from course_app.errors import NotFound
from course_app.models import Membership
from course_app.schemas import ApiKeyCreate
from course_app.security.tokens import hash_token, new_api_key

router = APIRouter(tags=["ex02"])


@router.post("/orgs/{org_id}/api-keys", status_code=201)
def create_api_key(
    body: ApiKeyCreate,
    user: CurrentUser,
    admin: OrgSettingsMember,
    # TODO(task 1): minting a long-lived key needs a recent confirmation (after the permission).
    _: RecentAuth,  # SOLUTION: after the permission, so forbidden members are never asked
    db: DB,
) -> dict[str, Any]:
    with transaction(db):
        return mint_key(db, admin, user.id, body.name.strip())


def mint_key(db: sqlite3.Connection, admin: Membership, user_id: int, name: str) -> dict[str, Any]:
    """Store a new key for ``admin.org_id`` and return ``{"id", "name", "prefix", "key"}``."""
    # TODO(task 2): mint a key (course_app.security.tokens), store only its hash, return it once.
    # BEGIN SOLUTION
    # Keep only the hash; the secret is returned this once and never again.
    secret, prefix = new_api_key()
    cur = db.execute(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (admin.org_id, name, prefix, hash_token(secret), user_id, now_iso()),
    )
    return {"id": cur.lastrowid, "name": name, "prefix": prefix, "key": secret}
    # END SOLUTION
    # STUB raise NotImplementedError("task 2: mint and store the API key")


@router.delete("/orgs/{org_id}/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    key_id: int,
    admin: OrgSettingsMember,
    # TODO(task 3): revoking is sensitive too: require a recent confirmation.
    _: RecentAuth,  # SOLUTION: as sensitive as creating (think of a hijacked session)
    db: DB,
) -> None:
    # TODO(task 3): mark the org's key revoked; 404 "API key not found" when there is none.
    # BEGIN SOLUTION
    with transaction(db):
        cur = db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND org_id = ? AND revoked_at IS NULL",
            (now_iso(), key_id, admin.org_id),
        )
    if cur.rowcount == 0:
        raise NotFound("API key not found")
    # END SOLUTION
    # STUB raise NotImplementedError("task 3: revoke the API key")
