"""Exercise 3: a person clicking a sensitive button through the student's ``StepUpClient``, and
the timeline of what they saw (matplotlib is imported only when a timeline is drawn)."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from course_app.notebook.display import NotYet, Table, attempt, brief, json_field, table
from course_app.notebook.travel import mmss, time_travel
from course_app.testing import Lab, Modal


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


def _ok_color(ok: bool) -> str:
    return "tab:green" if ok else "tab:red"


class Timeline:
    """The walk on a time axis: each confirmation and its window, each action, each prompt."""

    def __init__(self, walked: Walk) -> None:
        from matplotlib.figure import Figure  # only when a timeline is drawn

        self.walk = walked
        self.figure = Figure(figsize=(9, 3.6), layout="constrained")
        self._draw(self.figure.add_subplot())

    def _draw(self, ax: Any) -> None:
        walked = self.walk
        minutes = [a.at / 60 for a in walked.actions] or [0]
        for start in walked.confirmations:
            end = (start + walked.window) / 60
            ax.axvspan(start / 60, end, color="tab:blue", alpha=0.12)
            ax.axvline(start / 60, color="tab:blue", linestyle="--", linewidth=1)
            ax.annotate(" confirmed", (start / 60, 2.2), color="tab:blue", fontsize=8)
            ax.annotate(
                f"{walked.window / 60:g}-minute window",
                ((start / 60 + end) / 2, 1.9),
                color="tab:blue",
                fontsize=8,
                ha="center",
            )
        for n, action in enumerate(walked.actions):
            x = action.at / 60
            if action.prompted:
                ax.plot(x, 1, "*", color="tab:orange", markersize=15)
            else:
                ax.plot(x, 1, "o" if action.ok else "x", color=_ok_color(action.ok), markersize=9)
            # Labels alternate in height, so clicks two seconds apart stay legible.
            above, below = (10, -16) if n % 2 == 0 else (32, -30)
            short = action.outcome.split(" (")[0]
            ax.annotate(
                f"{mmss(action.at)}: {short}",
                (x, 1),
                xytext=(0, above),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
            wire = walked.wire(action)
            if wire:
                ax.plot(x, 0, "v" if "403" in wire else "o", color=_ok_color("403" not in wire))
                ax.annotate(
                    wire,
                    (x, 0),
                    xytext=(0, below),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
        ax.set_yticks([0, 1], ["on the wire", "the person clicks"])
        ax.set_ylim(-0.9, 2.4)
        ax.set_xlim(min(minutes) - 0.7, max(minutes + [w / 60 for w in walked.confirmations]) + 1)
        ax.set_xlabel("minutes since the first click")
        ax.set_title(
            f"{walked.prompts} prompt(s) for {len(walked.actions)} clicks"
            " (★ the dialog opened, ▼ a 403 on the wire)"
        )

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<timeline of {len(self.walk.actions)} actions, {self.walk.prompts} prompt(s)>"
