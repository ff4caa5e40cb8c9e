"""The audit trail: who signed in, who confirmed how, and every sensitive change.

Two ways in, one table (``audit_log``):

- Routes of the reference app write their entry with :class:`Audit` (the ``AuditTrail``
  dependency) inside the transaction that makes the change, so the change and its record
  are committed together or not at all.
- Routes this module must not edit — the exercises (``PUT /me/email``, API keys,
  ``PUT /me/password``), whose
  files belong to students, and the passkey routes — are recorded from outside by
  :class:`AuditHook`, which matches the request's method and path template and writes the
  entry once the route answered with success. That entry is written just after the change
  commits, in a transaction of its own.

``GET /me/security-log`` shows people their own entries. Entries never hold a secret: no
passwords, codes, tokens or API key secrets (a key's public prefix is fine).
"""

import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from course_app.clock import now_iso
from course_app.db import connect
from course_app.deps import DB
from course_app.security.tokens import hash_token
from course_app.sessions import COOKIE

log = logging.getLogger("course_app.audit")

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


def get_audit(request: Request, db: DB) -> Audit:
    return Audit(db, request.client.host if request.client else "")


AuditTrail = Annotated[Audit, Depends(get_audit)]


# --- Routes recorded from outside -------------------------------------------------------

Describe = Callable[[sqlite3.Connection, int, dict[str, str], dict[str, Any]], str]


@dataclass(frozen=True)
class Rule:
    """Record ``event`` when ``method path`` answers ``status`` (and, for an error answer,
    carries one of ``codes``)."""

    method: str
    path: str
    status: int
    event: str
    describe: Describe
    codes: frozenset[str] = frozenset()
    user_from_body: bool = False  # sign-in: there is no session before the request

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = _pattern(self.path).match(path)
        return found.groupdict() if found else None


@cache
def _pattern(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


def _new_email(db: sqlite3.Connection, user_id: int, _: dict[str, str], __: dict[str, Any]) -> str:
    row = db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return f"changed to {row['email']}" if row else ""


def _key_created(
    _: sqlite3.Connection, __: int, params: dict[str, str], body: dict[str, Any]
) -> str:
    return (
        f"org {params['org_id']}: key {body.get('id')} {body.get('name')!r} ({body.get('prefix')}…)"
    )


def _key_revoked(
    _: sqlite3.Connection, __: int, params: dict[str, str], ___: dict[str, Any]
) -> str:
    return f"org {params['org_id']}: key {params['key_id']}"


def _fixed(text: str) -> Describe:
    return lambda *_: text


def _passkey_added(
    _: sqlite3.Connection, __: int, ___: dict[str, str], body: dict[str, Any]
) -> str:
    return f"passkey {body.get('id')} {body.get('name')!r}"


def _passkey_removed(_: sqlite3.Connection, __: int, params: dict[str, str], ___: Any) -> str:
    return f"passkey {params['passkey_id']}"


HOOKED = (
    Rule("PUT", "/me/email", 200, "email_changed", _new_email),
    Rule("PUT", "/me/password", 200, "password_changed", _fixed("other sessions signed out")),
    Rule("POST", "/orgs/{org_id}/api-keys", 201, "api_key_created", _key_created),
    Rule("DELETE", "/orgs/{org_id}/api-keys/{key_id}", 204, "api_key_revoked", _key_revoked),
    Rule("POST", "/me/passkeys", 201, "passkey_added", _passkey_added),
    Rule("DELETE", "/me/passkeys/{passkey_id}", 204, "passkey_removed", _passkey_removed),
    Rule("DELETE", "/me/password", 200, "password_removed", _fixed("now passkey-only")),
    Rule("POST", "/auth/passkey", 200, "signed_in", _fixed("passkey"), user_from_body=True),
    Rule("POST", "/auth/confirm/passkey", 200, "confirmation_succeeded", _fixed("passkey")),
    Rule(
        "POST",
        "/auth/confirm/passkey",
        401,
        "confirmation_failed",
        _fixed("passkey"),
        codes=frozenset({"invalid_credentials"}),
    ),
    Rule(
        "POST",
        "/auth/confirm/passkey",
        401,
        "confirmation_failed",
        _fixed("passkey; too many failures, session signed out"),
        codes=frozenset({"session_revoked"}),
    ),
)
MAX_CAPTURED_BODY = 16 * 1024


class AuditHook:
    """Pure ASGI: records the :data:`HOOKED` routes after they answer.

    The session is looked up *before* the route runs: a confirmation rotates the cookie and
    a fifth failure deletes the session, and the entry still needs to know whose it is.
    The end of the answer is held back until the entry is written, so a client that saw
    the answer finds the entry. A failure to write it is logged; the answer goes out as is.
    """

    def __init__(self, app: ASGIApp, db_path: str, rules: tuple[Rule, ...] = HOOKED) -> None:
        self.app = app
        self.db_path = db_path
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        matched = [
            (rule, params)
            for rule in self.rules
            if (params := rule.matches(scope["method"], scope["path"])) is not None
        ]
        if not matched:
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        token = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        user_id = await run_in_threadpool(self._session_user, token) if token else None
        status = 0
        chunks: list[bytes] = []
        size = 0
        last: Message | None = None

        async def capture(message: Message) -> None:
            nonlocal status, size, last
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                if size < MAX_CAPTURED_BODY:
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                if not message.get("more_body", False):
                    last = message  # held back until the entry is written
                    return
            await send(message)

        await self.app(scope, receive, capture)
        await self._record(matched, status, b"".join(chunks), user_id, scope)
        if last is not None:
            await send(last)

    async def _record(
        self,
        matched: list[tuple[Rule, dict[str, str]]],
        status: int,
        raw: bytes,
        user_id: int | None,
        scope: Scope,
    ) -> None:

        body = _json_object(raw)
        client = scope.get("client")
        ip = client[0] if client else ""
        for rule, params in matched:
            if rule.status != status or (rule.codes and body.get("code") not in rule.codes):
                continue
            who = body.get("user_id") if rule.user_from_body else user_id
            if isinstance(who, int):
                await run_in_threadpool(self._write, rule, who, params, body, ip)

    def _session_user(self, token: str) -> int | None:
        try:
            conn = connect(self.db_path)
            try:
                row = conn.execute(
                    "SELECT user_id FROM sessions WHERE token_hash = ?", (hash_token(token),)
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return None  # the route will meet the same fault and answer for it
        return int(row["user_id"]) if row else None

    def _write(
        self, rule: Rule, user_id: int, params: dict[str, str], body: dict[str, Any], ip: str
    ) -> None:
        try:
            conn = connect(self.db_path)
            try:
                record(conn, user_id, rule.event, rule.describe(conn, user_id, params, body), ip)
            finally:
                conn.close()
        except sqlite3.Error:
            log.exception("could not record %s for user %s", rule.event, user_id)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
