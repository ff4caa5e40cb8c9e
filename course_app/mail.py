"""Outgoing mail: a row in ``outbox`` plus a console line, as a dev mailbox would show it."""

import logging
import sqlite3
import unicodedata

from course_app.clock import now_iso

log = logging.getLogger("course_app.mail")


def send_mail(
    db: sqlite3.Connection, to: str, subject: str, body: str, link: str | None = None
) -> None:
    """Queue a message. Call inside the caller's transaction, so a failed action sends nothing."""
    db.execute(
        "INSERT INTO outbox (to_addr, subject, body, link, created_at) VALUES (?, ?, ?, ?, ?)",
        (to, subject, body, link, now_iso()),
    )
    log.info("mail to %s: %s%s", to, subject, f"\n    {link}" if link else "")


def quote(text: str, limit: int = 60) -> str:
    """Text someone else chose (a passkey's or an org's name), made safe to put in a mail:
    one line (no forged paragraphs), no control or bidi-override characters (no "‮moc.live"
    spoofing), at most ``limit`` characters, in double quotes so it reads as a name."""
    kept = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in text)
    one_line = " ".join(kept.replace('"', "'").split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return f'"{one_line}"'


def messages_to(db: sqlite3.Connection, address: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT * FROM outbox WHERE to_addr = ? COLLATE NOCASE ORDER BY id", (address,)
    ).fetchall()
