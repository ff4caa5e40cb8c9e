"""The one door to the clock.

Every part of the app asks these helpers for the time, so freezegun (see ``timetravel``)
controls what the whole app sees.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def now_iso() -> str:
    return to_iso(utcnow())
