"""The audit trail: who signed in, who confirmed how, and every sensitive change.

Every entry commits in the transaction of the change it records: both or neither, whatever
crashes. Two ways in, one table (``audit_log``):

- Routes of the reference app write their entry with :class:`Audit` (the ``AuditTrail``
  dependency, ``course_app/deps.py``) inside the transaction that makes the change.
- The exercise routes (``PUT /me/email``, ``PUT /me/password``, API keys) belong to
  students and write nothing of the kind. Their request's connection carries the entry
  instead: ``get_db`` calls :func:`watch_route`, and when the route's own transaction has
  changed rows, :class:`RouteEntry` adds the entry to it just before the commit, described
  from inside that transaction (the address *this* request wrote, the key *it* inserted).
  A student's route calls nothing new: ``with transaction(db):`` is enough.

``GET /me/security-log`` shows people their own entries. Entries never hold a secret: no
passwords, codes, tokens or API key secrets (a key's public prefix is fine).
"""

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from course_app.clock import now_iso
from course_app.db import Connection

MAX_DETAIL = 300
LOG_LIMIT = 100


def record(
    db: sqlite3.Connection, user_id: int | None, event: str, detail: str = "", ip: str = ""
) -> None:
    """Add one entry. Call inside the transaction of the action it describes."""
    db.execute(
        "INSERT INTO audit_log (user_id, event, detail, ip, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, event, detail[:MAX_DETAIL], ip[:64], now_iso()),
    )


def entries_for(
    db: sqlite3.Connection, user_id: int, limit: int = LOG_LIMIT
) -> list[dict[str, Any]]:
    """A user's newest entries first."""
    rows = db.execute(
        "SELECT id, event, detail, ip, created_at FROM audit_log WHERE user_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class Audit:
    """The request's connection and client address, so a route writes ``audit.record(user.id,
    "password_changed")`` in the same transaction as the change."""

    db: sqlite3.Connection
    ip: str

    def record(self, user_id: int | None, event: str, detail: str = "") -> None:
        record(self.db, user_id, event, detail, self.ip)


# --- Routes whose entry their connection carries ------------------------------------------

# (connection inside the transaction, the acting user, the route's path parameters) → detail
Describe = Callable[[sqlite3.Connection, int, dict[str, Any]], str]


def _new_email(db: sqlite3.Connection, user_id: int, _: dict[str, Any]) -> str:
    row = db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return f"changed to {row['email']}" if row else ""


def _key_created(db: sqlite3.Connection, _: int, params: dict[str, Any]) -> str:
    # The route's transaction has just inserted the key: the connection's last insert.
    row = db.execute(
        "SELECT id, name, prefix FROM api_keys WHERE rowid = last_insert_rowid() AND org_id = ?",
        (params["org_id"],),
    ).fetchone()
    if row is None:
        return f"org {params['org_id']}"
    return f"org {params['org_id']}: key {row['id']} {row['name']!r} ({row['prefix']}…)"


def _key_revoked(_: sqlite3.Connection, __: int, params: dict[str, Any]) -> str:
    return f"org {params['org_id']}: key {params['key_id']}"


def _fixed(text: str) -> Describe:
    return lambda *_: text


@dataclass(frozen=True)
class Rule:
    event: str
    describe: Describe


# By method and path template, as the exercise routers declare them.
STUDENT_ROUTES = {
    ("PUT", "/me/email"): Rule("email_changed", _new_email),
    ("PUT", "/me/password"): Rule("password_changed", _fixed("other sessions signed out")),
    ("POST", "/orgs/{org_id}/api-keys"): Rule("api_key_created", _key_created),
    ("DELETE", "/orgs/{org_id}/api-keys/{key_id}"): Rule("api_key_revoked", _key_revoked),
}


class RouteEntry:
    """A :class:`course_app.db.Watch` that writes one route's entry into the first of the
    request's transactions that changes something, before it commits. A transaction that
    changes nothing (a refused request, a revocation of no key) records nothing."""

    def __init__(self, rule: Rule, params: dict[str, Any], ip: str) -> None:
        self.rule = rule
        self.params = params
        self.ip = ip
        self.done = False

    def holds(self, conn: sqlite3.Connection) -> None:
        return None

    def settle(self, conn: sqlite3.Connection, changed: int) -> None:
        user_id = getattr(conn, "user_id", None)
        if self.done or not changed or user_id is None:
            return
        detail = self.rule.describe(conn, user_id, self.params)
        record(conn, user_id, self.rule.event, detail, self.ip)
        self.done = True


def watch_route(conn: sqlite3.Connection, request: Request) -> None:
    """Give the request's connection the entry of its route, if the route is a student's."""
    route = request.scope.get("route")
    rule = STUDENT_ROUTES.get((request.method, getattr(route, "path", "")))
    if rule is not None and isinstance(conn, Connection):
        ip = request.client.host if request.client else ""
        conn.watches.append(RouteEntry(rule, dict(request.path_params), ip))
