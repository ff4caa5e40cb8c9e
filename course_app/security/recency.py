"""The step-up rule itself: is a confirmation recent enough?"""

from datetime import datetime, timedelta


def is_recent(confirmed_at: datetime | None, now: datetime, max_age_seconds: int) -> bool:
    """True when the confirmation happened at most ``max_age_seconds`` ago.

    The boundary is inclusive: exactly ``max_age`` seconds later is still recent, one second
    more is not. A stamp in the future means the clock went backwards since it was written;
    we cannot tell how old it really is, so it fails closed (not recent).
    """
    if confirmed_at is None or confirmed_at > now:
        return False
    return now - confirmed_at <= timedelta(seconds=max_age_seconds)


def window_ends(confirmed_at: datetime | None, max_age_seconds: int) -> datetime | None:
    if confirmed_at is None:
        return None
    return confirmed_at + timedelta(seconds=max_age_seconds)


def seconds_left(confirmed_at: datetime | None, now: datetime, max_age_seconds: int) -> int | None:
    """Whole seconds the confirmation stays recent after ``now`` (0: ``now`` is its last
    second), or None when it is not recent. A client counting this down on its own clock
    closes when the server does, whatever its date and time say."""
    if not is_recent(confirmed_at, now, max_age_seconds) or confirmed_at is None:
        return None
    return max_age_seconds - int((now - confirmed_at).total_seconds())
