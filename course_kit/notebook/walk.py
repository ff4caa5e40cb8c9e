"""Exercise 3: a person clicking a sensitive button through the student's ``StepUpClient``, and
the timeline of what they saw (matplotlib is imported only when a timeline is drawn)."""

import io
import itertools
import textwrap
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
ZOOM_SECONDS = 8  # clicks closer than this crowd the minute scale: the close-up spans ± this
CLICKS, WIRE = 1.0, 0.0  # the two rows
# Drawn at 1:1 in a notebook: no wider than JupyterLab's output area in a 1280 px window with
# its file browser open (tests/browser measures that area), so text keeps its size: 10 points
# is 14 px at 100 dpi, the notebook's own text size; the wire's labels are 12.5 px.
WIDTH_PX, DPI, FONT, SMALL = 840, 100, 10, 9
EDGE = 0.1  # a label within this fraction of a panel's edge is aligned inwards
# Labels sit on a light backing, so a window's line running behind one never crosses its text.
BACKING = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}


class Timeline:
    """The walk on a time axis: each window from the confirmation that opens it to the second
    it closes, each click with its time and answer, each exchange on the wire, and a legend.
    Clicks within seconds of each other (+4:59 and +5:01) are one blot on the minute scale:
    the whole walk marks them as a group, and a second panel below shows them second by
    second."""

    def __init__(self, walked: Walk) -> None:
        from matplotlib.figure import Figure  # only when a timeline is drawn

        self.walk = walked
        self.close_up = self._crowd()
        rows = 1 if self.close_up is None else 2
        self.figure = Figure(
            figsize=(WIDTH_PX / DPI, 1.3 + 2.9 * rows), dpi=DPI, layout="constrained"
        )
        panels = self.figure.subplots(rows, 1, squeeze=False)[:, 0]
        times = [a.at for a in walked.actions] or [0.0]
        ends = [c + walked.window for c in walked.confirmations]
        self._draw(panels[0], 60, min(times) - 40, max(times + ends) + 70)
        panels[0].set_title("the whole walk", fontsize=FONT)
        if self.close_up is not None:
            around = self.close_up
            self._draw(panels[1], 1, around - ZOOM_SECONDS, around + ZOOM_SECONDS)
            panels[1].set_title(f"around {mmss(around)}, second by second", fontsize=FONT)
        self.figure.suptitle(
            f"{walked.prompts} prompt(s) for {len(walked.actions)} clicks", fontsize=FONT + 2
        )
        self.figure.legend(handles=_legend(), loc="outside lower center", ncols=2, fontsize=FONT)

    def _crowd(self) -> float | None:
        """The middle of the first clicks closer than ``ZOOM_SECONDS`` to each other (the
        window close among them, when there is one), or None."""
        times = sorted(a.at for a in self.walk.actions)
        ends = [c + self.walk.window for c in self.walk.confirmations]
        for first, second in itertools.pairwise(times):
            if second - first < ZOOM_SECONDS:
                return next((e for e in ends if first <= e <= second), (first + second) / 2)
        return None

    def _grouped(self, at: float, unit: float) -> bool:
        """Whether a click is drawn in the close-up only (not on the minute scale)."""
        around = self.close_up
        return unit > 1 and around is not None and abs(at - around) <= ZOOM_SECONDS

    def _draw(self, ax: Any, unit: float, low: float, high: float) -> None:
        """One panel from ``low`` to ``high`` seconds, drawn in ``unit`` (60: minutes)."""
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        walked = self.walk
        top = 2.25
        for start in walked.confirmations:
            end = start + walked.window
            ax.axvspan(start / unit, end / unit, color=BLUE, alpha=0.12, linewidth=0)
            ax.axvline(start / unit, color=BLUE, linestyle="--", linewidth=1)
            ax.axvline(end / unit, color=DARK_BLUE, linewidth=2)
            if low <= start <= high:
                ax.annotate(
                    f" opens {mmss(start)}",
                    (start / unit, top),
                    color=BLUE,
                    fontsize=FONT,
                    bbox=BACKING,
                )
            if low <= end <= high:
                ax.annotate(
                    f"closes {mmss(end)} ",
                    (end / unit, top),
                    color=DARK_BLUE,
                    fontsize=FONT,
                    ha="right",
                    fontweight="bold",
                    bbox=BACKING,
                )
        shown = [a for a in walked.actions if low <= a.at <= high]
        grouped = [a for a in shown if self._grouped(a.at, unit)]
        shown = [a for a in shown if a not in grouped]
        if grouped:
            self._group(ax, unit, grouped)
        near = (high - low) * 0.18  # closer than this, two labels would overlap
        for n, action in enumerate(shown):
            x = action.at / unit
            before = n > 0 and action.at - shown[n - 1].at < near
            after = n + 1 < len(shown) and shown[n + 1].at - action.at < near
            # A crowded pair: the earlier label goes left of its mark, the later one right;
            # near a panel's edge, a label goes inwards.
            place = (action.at - low) / (high - low)
            ha, dx = ("right", -7) if after else ("left", 7) if before else ("center", 0)
            if place < EDGE or place > 1 - EDGE:
                ha, dx = ("left", -4) if place < EDGE else ("right", 4)
            marker, color, size = _click_mark(action)
            ax.plot(x, CLICKS, marker, color=color, markersize=size)
            ax.annotate(
                f"{mmss(action.at)}\n{_short(action.outcome)}",
                (x, CLICKS),
                xytext=(dx, 12),
                textcoords="offset points",
                ha=ha,
                va="bottom",
                fontsize=FONT,
                bbox=BACKING,
            )
            wire = walked.wire(action)
            if wire:
                challenged = "403" in wire
                ax.plot(
                    x,
                    WIRE,
                    "v" if challenged else "o",
                    color=RED if challenged else GREEN,
                    markersize=8 if challenged else 6,
                )
                ax.annotate(
                    wire.replace(" → ", "\n→ "),
                    (x, WIRE),
                    xytext=(dx, -10),
                    textcoords="offset points",
                    ha=ha,
                    va="top",
                    fontsize=SMALL,
                    bbox=BACKING,
                )
        ax.set_yticks([WIRE, CLICKS], ["on the wire", "the person clicks"], fontsize=FONT)
        ax.set_ylim(-1.1, 2.6)
        ax.set_xlim(low / unit, high / unit)
        ax.xaxis.set_major_locator(MaxNLocator(7, steps=[1, 2, 4, 5, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: mmss(v * unit)))
        ax.tick_params(axis="x", labelsize=FONT)
        ax.set_xlabel("time since the first click (minutes:seconds)", fontsize=FONT)

    def _group(self, ax: Any, unit: float, grouped: list[Action]) -> None:
        """Clicks the minute scale cannot tell apart: one box over both rows, named above it."""
        from matplotlib.patches import Rectangle

        first, last = grouped[0].at / unit, grouped[-1].at / unit
        pad = 4 / unit
        box = Rectangle(
            (first - pad, WIRE - 0.35),
            last - first + 2 * pad,
            CLICKS - WIRE + 0.7,
            fill=False,
            edgecolor="dimgray",
            linestyle=":",
            linewidth=1.5,
        )
        ax.add_patch(box)
        ax.annotate(
            ", ".join(mmss(a.at) for a in grouped) + "\n(the close-up below)",
            ((first + last) / 2, CLICKS + 0.35),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT,
            bbox=BACKING,
        )

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<timeline of {len(self.walk.actions)} actions, {self.walk.prompts} prompt(s)>"


def _short(outcome: str) -> str:
    """``not implemented yet (task 3: …)`` → ``not implemented yet``; ``raised StepUpFailed:
    …`` → ``raised StepUpFailed``; on two lines if still long."""
    return "\n".join(textwrap.wrap(outcome.split(" (")[0].split(":")[0], 15))


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
