"""Time travel for tests and notebooks, built on freezegun.

``real_asyncio=True`` lets the event loop keep its own monotonic clock: a plain freeze
hangs anything that awaits. The ignore list keeps freezegun from patching modules that
never read the clock through ``course_app.clock`` (scanning them is what makes a freeze slow).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
# Never patched: the kernel's and browser driver's own timers, pytest's clock (so test
# durations in reports stay real while a test travels in time), and a live server's event
# loop and uvicorn (a timer set in the instant a freeze begins would otherwise lie in a fake
# future and never fire: the server would not stop).
IGNORE = [
    "asyncio",
    "uvicorn",
    "jupyter_client",
    "ipykernel",
    "zmq",
    "tornado",
    "nbclient",
    "debugpy",
    "playwright",
    "_pytest.timing",
]


@contextmanager
def frozen_clock(start: datetime = START) -> Iterator[FrozenDateTimeFactory]:
    """Freeze the clock at ``start``; ``.tick(seconds)`` and ``.move_to(when)`` move it."""
    # A class built on the real ``date`` while freezegun's fake one is in place fails with a
    # metaclass conflict. FastAPI imports pydantic.v1 (which builds such classes) the first
    # time a route is declared, perhaps inside a freeze: import it before.
    import pydantic.v1  # noqa: F401

    with freeze_time(start, real_asyncio=True, ignore=IGNORE) as clock:
        assert isinstance(clock, FrozenDateTimeFactory)  # neither ticking nor auto-ticking
        yield clock


def advance(clock: FrozenDateTimeFactory, seconds: float) -> datetime:
    """Move a frozen clock forward and return the new now."""
    clock.tick(timedelta(seconds=seconds))
    return datetime.now(UTC)
