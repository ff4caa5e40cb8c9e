"""Time travel, one cell at a time: ``with nb.time_travel() as clock: clock.tick(minutes=5)``.

Built on ``course_kit.timetravel`` (freezegun with ``real_asyncio=True``); "now" is read through
``course_app.clock``, the one door to time, like everywhere else in the app."""

import warnings
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from freezegun.api import FrozenDateTimeFactory

from course_app.clock import utcnow
from course_kit.notebook.display import ipython_shell
from course_kit.timetravel import advance, frozen_clock


class TravelClock:
    """The frozen clock inside ``with time_travel() as clock:``."""

    def __init__(self, frozen: FrozenDateTimeFactory, start: datetime) -> None:
        self.frozen = frozen
        self.start = start

    def tick(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> datetime:
        """Move forward and return the new now."""
        return advance(self.frozen, seconds + 60 * minutes + 3600 * hours)

    def at(self, seconds: float = 0, *, minutes: float = 0) -> datetime:
        """Move to ``start`` + the given offset."""
        self.frozen.move_to(self.start + timedelta(seconds=seconds + 60 * minutes))
        return self.now

    @property
    def now(self) -> datetime:
        return utcnow()

    @property
    def elapsed(self) -> float:
        return (self.now - self.start).total_seconds()

    def __repr__(self) -> str:
        return f"frozen at {self.now:%H:%M:%S} UTC ({mmss(self.elapsed)} since the start)"


class TimeTravel:
    """Freezes the clock at the present (or ``start``) until the end of the ``with`` block.

    A frozen clock never outlives its cell: left open by hand, it is stopped when the cell
    ends. Whatever happened during the trip keeps its timestamps, so a confirmation made
    "in the future" looks like a clock that went backwards to later cells (and does not count).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.start = (start or utcnow()).replace(microsecond=0)
        self._freeze: Any = None

    def __enter__(self) -> TravelClock:
        self._freeze = frozen_clock(self.start)
        clock = TravelClock(self._freeze.__enter__(), self.start)
        shell = ipython_shell()
        if shell is not None:
            shell.events.register("post_run_cell", self._end_of_cell)
        return clock

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        freeze, self._freeze = self._freeze, None
        shell = ipython_shell()
        if shell is not None and self._end_of_cell in shell.events.callbacks["post_run_cell"]:
            shell.events.unregister("post_run_cell", self._end_of_cell)
        if freeze is not None:
            freeze.__exit__(kind, error, trace)

    def _end_of_cell(self, *_: Any) -> None:
        if self._freeze is not None:
            self.__exit__(None, None, None)
            warnings.warn(
                "time travel ended with its cell: use it as `with nb.time_travel() as clock:`",
                stacklevel=1,
            )


def time_travel(start: datetime | None = None) -> TimeTravel:
    return TimeTravel(start)


def mmss(seconds: float) -> str:
    """``299`` → ``+4:59``."""
    sign = "-" if seconds < 0 else "+"
    whole = round(abs(seconds))
    return f"{sign}{whole // 60}:{whole % 60:02d}"
