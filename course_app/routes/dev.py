"""Dev-only helpers (mounted when ``STEPUP_DEV_MODE`` is on): the mailbox."""

from typing import Any

from fastapi import APIRouter

from course_app.deps import DB

router = APIRouter(tags=["dev"])


@router.get("/dev/mail")
def dev_mail(db: DB, to: str | None = None) -> list[dict[str, Any]]:
    """Every message sent, newest first (or only those to ``to``)."""
    if to:
        rows = db.execute(
            "SELECT * FROM outbox WHERE to_addr = ? COLLATE NOCASE ORDER BY id DESC", (to,)
        ).fetchall()
    else:
        rows = db.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT 200").fetchall()
    return [dict(row) for row in rows]
