"""Row types the app passes around (plain dataclasses built from SQLite rows)."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from course_app.clock import from_iso


def _when(value: str | None) -> datetime | None:
    return from_iso(value) if value else None


@dataclass(frozen=True)
class User:
    id: int
    email: str
    email_verified: bool
    password_hash: str | None
    totp_secret: str | None
    totp_enabled: bool
    totp_last_step: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "User":
        return cls(
            id=row["id"],
            email=row["email"],
            email_verified=bool(row["email_verified"]),
            password_hash=row["password_hash"],
            totp_secret=row["totp_secret"],
            totp_enabled=bool(row["totp_enabled"]),
            totp_last_step=row["totp_last_step"],
        )


@dataclass(frozen=True)
class Session:
    """A signed-in browser session. Only sessions can ever be recently confirmed."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    confirmed_at: datetime | None
    confirmed_method: str | None
    failed_confirmations: int
    user_agent: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Session":
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            created_at=from_iso(row["created_at"]),
            last_seen_at=from_iso(row["last_seen_at"]),
            confirmed_at=_when(row["confirmed_at"]),
            confirmed_method=row["confirmed_method"],
            failed_confirmations=row["failed_confirmations"],
            user_agent=row["user_agent"],
        )


@dataclass(frozen=True)
class Membership:
    org_id: int
    user_id: int
    role: str


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """A request authenticated with ``Authorization: Bearer sk_…``: an org, never a session."""

    key_id: int
    org_id: int
