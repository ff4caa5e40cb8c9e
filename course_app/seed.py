"""Demo accounts for ``make serve`` (dev mode only; never overwrites an existing user)."""

import sqlite3
from dataclasses import dataclass

from course_app.accounts import create_user, find_user_by_email
from course_app.clock import now_iso
from course_app.db import connect, transaction
from course_app.security.passwords import hash_password
from course_app.security.tokens import hash_token
from course_app.settings import Settings

# A fixed secret so the printed value can be typed into an authenticator app once.
CAROL_TOTP_SECRET = "JBSWY3DPEHPK3PXPCAROLDEMO234567A"
# Fixed recovery codes (in the format of real ones) so the recovery path can be tried: the
# ones still unused are printed at every start. Demo data only, like the passwords.
CAROL_RECOVERY_CODES = (
    "9ed9d490-ebd137ee-d26b5d67-43d67d53",
    "7d8c09ab-51ff34ec-66bbb312-f53528f8",
    "d7329c11-7060d85a-9faf5886-a575bbf3",
    "40fe8c1a-d2de588f-395828d7-ed09c54e",
    "1ae7c8c6-07c2382e-7e652b46-9f1d766c",
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    note: str


DEMO_ACCOUNTS = (
    DemoAccount("alice@example.com", "alice-demo-pass", "owner of org Acme"),
    DemoAccount("bob@example.com", "bob-demo-pass", "member of org Acme"),
    DemoAccount("carol@example.com", "carol-demo-pass", f"TOTP 2FA on, secret {CAROL_TOTP_SECRET}"),
)


def seed_demo(settings: Settings) -> list[str]:
    """Create the demo accounts that do not exist yet; return lines to print."""
    if not settings.dev_mode:
        raise RuntimeError("demo data is only seeded in dev mode (STEPUP_DEV_MODE=1)")
    db = connect(settings.db_path)
    try:
        with transaction(db):
            created = _seed(db, settings.bcrypt_rounds)
    finally:
        db.close()
    lines = ["Demo accounts (dev mode only):"]
    for account in DEMO_ACCOUNTS:
        state = "created" if account.email in created else "exists, left as is"
        lines.append(f"  {account.email:<20} {account.password:<17} {account.note} [{state}]")
    unused = _unused_recovery_codes(settings)
    if unused:
        lines.append(f"  carol's unused recovery codes (each works once): {', '.join(unused)}")
    return lines


def _unused_recovery_codes(settings: Settings) -> list[str]:
    db = connect(settings.db_path)
    try:
        user = find_user_by_email(db, "carol@example.com")
        if user is None:
            return []
        return [
            code
            for code in CAROL_RECOVERY_CODES
            if db.execute(
                "SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?"
                " AND used_at IS NULL",
                (user.id, hash_token(code)),
            ).fetchone()
        ]
    finally:
        db.close()


def _seed(db: sqlite3.Connection, rounds: int) -> set[str]:
    created: set[str] = set()
    ids: dict[str, int] = {}
    for account in DEMO_ACCOUNTS:
        existing = find_user_by_email(db, account.email)
        if existing:
            ids[account.email] = existing.id
            continue
        ids[account.email] = create_user(
            db, account.email, hash_password(account.password, rounds), verified=True
        )
        created.add(account.email)
    if "carol@example.com" in created:
        db.execute(
            "UPDATE users SET totp_secret = ?, totp_enabled = 1 WHERE id = ?",
            (CAROL_TOTP_SECRET, ids["carol@example.com"]),
        )
        db.executemany(
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
            [(ids["carol@example.com"], hash_token(c)) for c in CAROL_RECOVERY_CODES],
        )
    if "alice@example.com" in created:
        org_id = db.execute(
            "INSERT INTO orgs (name, verified_domain, created_at) VALUES ('Acme', 'acme.test', ?)",
            (now_iso(),),
        ).lastrowid
        db.execute(
            "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'owner')",
            (org_id, ids["alice@example.com"]),
        )
        db.execute(
            "INSERT OR IGNORE INTO memberships (org_id, user_id, role) VALUES (?, ?, 'member')",
            (org_id, ids["bob@example.com"]),
        )
    return created
