"""Exercise 3: a person clicking a sensitive button through the student's ``StepUpClient``, and
the timeline of what they saw (matplotlib is imported only when a timeline is drawn)."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from course_kit.lab import Lab, Modal
from course_kit.notebook.display import NotYet, Table, attempt, brief, json_field, table
from course_kit.notebook.travel import mmss, time_travel


@dataclass
class Exchange:
    """One HTTP request and its answer, as it went over the wire."""

    at: float
    method: str
    path: str
    status: int
    code: str


@dataclass
class Action:
    """One sensitive action the person asked the client to do."""

    at: float
    outcome: str
    prompted: int
    ok: bool


@dataclass
class Walk:
    """What ``walk`` saw: the person's actions and the HTTP exchanges behind them."""

    method: str
    path: str
    actions: list[Action] = field(default_factory=list)
    traffic: list[Exchange] = field(default_factory=list)
    window: float = 300

    @property
    def confirmations(self) -> list[float]:
        return [e.at for e in self.traffic if e.path == "/auth/confirm" and e.status == 200]

    @property
    def prompts(self) -> int:
        return sum(a.prompted for a in self.actions)

    def wire(self, action: Action) -> str:
        """What went over the wire for one action: ``403 → confirm 200 → 200``."""
        return " → ".join(
            f"confirm {e.status}" if e.path == "/auth/confirm" else str(e.status)
            for e in self.traffic
            if action.at <= e.at < action.at + 1
        )

    def table(self) -> Table:
        rows = [
            [mmss(a.at), a.outcome, "yes" if a.prompted else "", self.wire(a)] for a in self.actions
        ]
        title = f"{self.method} {self.path}, as the person clicks: {self.prompts} prompt(s)"
        return table(["at", "answer", "modal opened", "on the wire"], rows, title)

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table())

    def plot(self) -> "Timeline":
        return Timeline(self)


def walk(
    lab: Lab,
    client_class: Callable[..., Any],
    at: Sequence[float] = (0, 120, 299, 301),
    method: str = "POST",
    path: str = "/me/2fa/setup",
    email: str = "walker@example.com",
) -> Walk:
    """A person who signed in a while ago does ``method path`` at each offset in ``at``
    (seconds), through ``client_class`` (the student's ``StepUpClient``). One frozen clock,
    inside this call; every exchange on the wire and every prompt is recorded."""
    person = lab.person(email)
    result = Walk(method, path, window=lab.settings.reauth_window_seconds)
    with time_travel() as clock:

        def record(response: httpx.Response) -> None:
            response.read()
            code = json_field(response, "code")
            request = response.request
            result.traffic.append(
                Exchange(
                    clock.elapsed, request.method, request.url.path, response.status_code, code
                )
            )

        person.event_hooks["response"].append(record)
        client = attempt(client_class, person, Modal())
        for offset in at:
            clock.at(offset)
            result.actions.append(_act(client, method, path, offset))
        person.event_hooks["response"].remove(record)
    return result


def _act(client: Any, method: str, path: str, offset: float) -> Action:
    if isinstance(client, NotYet):
        return Action(offset, str(client), 0, False)
    before = getattr(client, "prompts", 0)
    response = attempt(client.request, method, path)
    prompted = getattr(client, "prompts", 0) - before
    if isinstance(response, NotYet):  # a stub, or a bug in the student's client: shown in the table
        return Action(offset, str(response), prompted, False)
    return Action(offset, brief(response), prompted, response.is_success)


BLUE, DARK_BLUE, GREEN, RED, ORANGE = "tab:blue", "#1f4e79", "tab:green", "tab:red", "tab:orange"
ZOOM_SECONDS = 8  # the close-up spans a window's close ± this
CLICKS, WIRE = 1.0, 0.0  # the two rows


class Timeline:
    """The walk on a time axis: each window from the confirmation that opens it to the second
    it closes, each click with its time and answer, each exchange on the wire, and a legend.
    When clicks fall within seconds of a window's close, a second panel shows that moment
    second by second (on the minute scale, +4:59 and +5:01 are one blot)."""

    def __init__(self, walked: Walk) -> None:
        from matplotlib.figure import Figure  # only when a timeline is drawn

        self.walk = walked
        close = self._close_call()
        self.figure = Figure(figsize=(11, 4.2), layout="constrained")
        if close is None:
            panels = [self.figure.add_subplot()]
        else:
            panels = list(self.figure.subplots(1, 2, width_ratios=[3, 2], sharey=True))
        times = [a.at for a in walked.actions] or [0.0]
        ends = [c + walked.window for c in walked.confirmations]
        self._draw(panels[0], 60, min(times) - 40, max(times + ends) + 70)
        panels[0].set_title("the whole walk", fontsize=9)
        if close is not None:
            self._draw(panels[1], 1, close - ZOOM_SECONDS, close + ZOOM_SECONDS)
            panels[1].set_title(f"around {mmss(close)}, second by second", fontsize=9)
        self.figure.suptitle(
            f"{walked.prompts} prompt(s) for {len(walked.actions)} clicks", fontsize=11
        )
        self.figure.legend(handles=_legend(), loc="outside lower center", ncols=4, fontsize=8)

    def _close_call(self) -> float | None:
        """The first window close with a click within a few seconds of it, if any."""
        walked = self.walk
        for start in walked.confirmations:
            end = start + walked.window
            if any(abs(a.at - end) <= ZOOM_SECONDS / 2 for a in walked.actions):
                return end
        return None

    def _draw(self, ax: Any, unit: float, low: float, high: float) -> None:
        """One panel from ``low`` to ``high`` seconds, drawn in ``unit`` (60: minutes)."""
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        walked = self.walk
        top = 2.15
        for start in walked.confirmations:
            end = start + walked.window
            ax.axvspan(start / unit, end / unit, color=BLUE, alpha=0.12, linewidth=0)
            ax.axvline(start / unit, color=BLUE, linestyle="--", linewidth=1)
            ax.axvline(end / unit, color=DARK_BLUE, linewidth=2)
            if low <= start <= high:
                ax.annotate(
                    f" opens {mmss(start)}", (start / unit, top), color=BLUE, fontsize=8, ha="left"
                )
            if low <= end <= high:
                ax.annotate(
                    f"closes {mmss(end)} ",
                    (end / unit, top),
                    color=DARK_BLUE,
                    fontsize=8,
                    ha="right",
                    fontweight="bold",
                )
        shown = [a for a in walked.actions if low <= a.at <= high]
        near = (high - low) * 0.15  # closer than this, two labels would overlap
        for n, action in enumerate(shown):
            x = action.at / unit
            before = n > 0 and action.at - shown[n - 1].at < near
            after = n + 1 < len(shown) and shown[n + 1].at - action.at < near
            # A crowded pair: the earlier label goes left of its mark, the later one right.
            ha, dx = ("right", -7) if after else ("left", 7) if before else ("center", 0)
            marker, color, size = _click_mark(action)
            ax.plot(x, CLICKS, marker, color=color, markersize=size)
            short = action.outcome.split(" (")[0]
            ax.annotate(
                f"{mmss(action.at)}\n{short}",
                (x, CLICKS),
                xytext=(dx, 11),
                textcoords="offset points",
                ha=ha,
                va="bottom",
                fontsize=8,
            )
            wire = walked.wire(action)
            if wire:
                challenged = "403" in wire
                ax.plot(
                    x,
                    WIRE,
                    "v" if challenged else "o",
                    color=RED if challenged else GREEN,
                    markersize=7 if challenged else 5,
                )
                ax.annotate(
                    wire.replace(" → ", "\n→ "),
                    (x, WIRE),
                    xytext=(dx, -9),
                    textcoords="offset points",
                    ha=ha,
                    va="top",
                    fontsize=7,
                )
        ax.set_yticks([WIRE, CLICKS], ["on the wire", "the person clicks"])
        ax.set_ylim(-1.0, 2.45)
        ax.set_xlim(low / unit, high / unit)
        ax.xaxis.set_major_locator(MaxNLocator(7, steps=[1, 2, 4, 5, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: mmss(v * unit)))
        ax.set_xlabel("time since the first click (minutes:seconds)", fontsize=8)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<timeline of {len(self.walk.actions)} actions, {self.walk.prompts} prompt(s)>"


def _click_mark(action: Action) -> tuple[str, str, int]:
    if action.prompted:
        return "*", ORANGE, 15
    return ("o", GREEN, 9) if action.ok else ("X", RED, 9)


def _legend() -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def mark(marker: str, color: str, label: str, size: int = 9) -> Line2D:
        return Line2D(
            [], [], marker=marker, color=color, linestyle="", markersize=size, label=label
        )

    return [
        mark("*", ORANGE, "a click that opened the dialog", 13),
        mark("o", GREEN, "a click that went through, no dialog"),
        mark("X", RED, "a click that failed"),
        mark("v", RED, "on the wire: a 403 (a challenge)", 7),
        Patch(color=BLUE, alpha=0.12, label="a five-minute window"),
        Line2D([], [], color=BLUE, linestyle="--", label="a confirmation opens it"),
        Line2D([], [], color=DARK_BLUE, linewidth=2, label="it closes"),
        mark("o", GREEN, "on the wire: answered, no challenge", 5),
    ]
