"""Helpers for the course notebooks.

    import course_app.notebook as nb
    lab = nb.start()                      # the app, in-process, on a throwaway database
    alice = lab.person("alice@example.com")
    alice.post("/me/2fa/setup")           # a cell ending in a response shows status and body
    with nb.time_travel() as clock:       # a frozen clock for the body of this one cell
        clock.tick(minutes=5)
    nb.check("ex01")                      # that exercise's graded tests, as a table

The app mounts the implementation named by ``STEPUP_IMPL`` (default: the student's
``exercises/``) and is rebuilt whenever one of its files changes, so an edit shows at the next
request. Everything builds on ``course_app.testing.Lab`` and ``course_app.timetravel``.

Jupyter stays out of the import path: IPython is used only when a kernel already loaded it,
matplotlib only when a timeline is drawn, nbformat only by the command line below.

    python -m course_app.notebook --strip notebooks/*.ipynb   # drop outputs and metadata
    python -m course_app.notebook --check notebooks/*.ipynb   # fail if any are left
    python -m course_app.notebook --run --impl solutions notebooks/*.ipynb   # execute, timed
"""

import argparse
import atexit
import html
import io
import json
import os
import shutil
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import httpx
from fastapi import FastAPI
from freezegun.api import FrozenDateTimeFactory

from course_app.app import create_app
from course_app.impl import ENV_VAR, Implementation, resolve
from course_app.manifest import Exercise, load_course
from course_app.settings import Settings
from course_app.timetravel import advance, frozen_clock

with warnings.catch_warnings():
    # Starlette's nudge towards httpx2 is not the student's to act on (pyproject hides it too).
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

    from course_app.testing import PASSWORD, Lab, lab_settings, path_of, token_of

__all__ = [  # what the notebooks use, as nb.<name>
    "PASSWORD",
    "Modal",
    "NotYet",
    "NotebookLab",
    "Table",
    "attempt",
    "brief",
    "check",
    "course",
    "describe",
    "hints",
    "outcomes",
    "path_of",
    "start",
    "table",
    "time_travel",
    "token_of",
    "walk",
]

NOTEBOOK_DEFAULT = "exercises"  # students see their own code unless STEPUP_IMPL says otherwise
KERNELSPEC = {"display_name": "Python 3 (step-up lab)", "language": "python", "name": "python3"}
TEXT_CELL_WIDTH = 60
NOTEBOOK_SESSION_SECONDS = 24 * 3600


def implementation(spec: str | None = None) -> Implementation:
    """The implementation the notebooks use: ``spec``, else ``STEPUP_IMPL``, else exercises."""
    return resolve(spec or os.environ.get(ENV_VAR) or NOTEBOOK_DEFAULT)


# --- tables: the one display format of the notebooks ---------------------------------------------


@dataclass
class Table:
    """Rows that show as an HTML table in Jupyter and as aligned text anywhere else."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    title: str = ""
    footer: str = ""
    attrs: dict[str, str] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in self.attrs.items())
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(map(_html_cell, row)) + "</tr>" for row in self.rows)
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        footer = (
            f"<p style='white-space:pre-wrap'>{html.escape(self.footer)}</p>" if self.footer else ""
        )
        return f"{title}<table{attrs}><tr>{head}</tr>{body}</table>{footer}"

    def __repr__(self) -> str:
        cells = [[_cut(_text(v)) for v in row] for row in [self.columns, *self.rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join(
            filter(None, [self.title, *[line.rstrip() for line in lines], self.footer])
        )


def table(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> Table:
    return Table(list(columns), [list(row) for row in rows], title)


MARK_COLORS = {"✓": "green", "✗": "#c00"}


def _html_cell(value: object) -> str:
    text = _text(value)
    color = f";color:{MARK_COLORS[text]};font-weight:bold" if text in MARK_COLORS else ""
    return f"<td style='text-align:left;white-space:pre-wrap{color}'>{html.escape(text)}</td>"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CELL_WIDTH else text[: TEXT_CELL_WIDTH - 1] + "…"


# --- the app, rebuilt when the implementation changes ------------------------------------------


class LiveApp:
    """An ASGI app that forwards to the course app, rebuilding it whenever a file of the
    implementation changed: edit ``exercises/ex01_….py``, save, and the next request uses it."""

    def __init__(self, settings: Settings, impl: Implementation) -> None:
        self.settings = settings
        self.impl = impl
        self.builds = 0
        self._app: FastAPI | None = None
        self._sources: tuple[tuple[str, bytes], ...] = ()

    @property
    def app(self) -> FastAPI:
        sources = tuple((p.name, p.read_bytes()) for p in sorted(self.impl.folder.glob("*.py")))
        if self._app is None or sources != self._sources:
            self._app = create_app(self.settings, self.impl)
            self._sources = sources
            self.builds += 1
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        """Anything else (``state``, ``routes``, …) is the current app's."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.app, name)


@dataclass
class NotebookLab(Lab):
    """A :class:`course_app.testing.Lab` whose app follows the student's edits."""

    app: LiveApp  # type: ignore[assignment]

    @property
    def impl(self) -> Implementation:
        return self.app.impl

    def __repr__(self) -> str:
        return (
            f"Step-up lab: implementation {self.impl.label}\n"
            f"database {self.settings.db_path} (thrown away when the kernel stops)\n"
            f"sessions stay signed in for {self.settings.session_idle_seconds // 3600} hours"
            " without a request (30 minutes in the real app)\n"
            f"the app is rebuilt whenever a file in {self.impl.folder.name}/ changes"
        )

    def person(self, email: str, password: str = PASSWORD, verified: bool = True) -> TestClient:
        """Sign up, verify and sign in (see ``Lab.person``). When the account exists already,
        as when a cell runs a second time, the same person signs in again in a new browser."""
        if self.user(email) is None:
            return super().person(email, password, verified)
        client = self.client()
        self.login(client, email, password)
        return client

    def exercise(self, exercise_id: str) -> ModuleType:
        """The exercise file, imported afresh: what is saved now is what runs."""
        return self.impl.load(exercise_id)

    def confirm(self, client: TestClient, password: str = PASSWORD) -> httpx.Response:
        """What the "Confirm your identity" dialog sends: ``POST /auth/confirm``."""
        return client.post("/auth/confirm", json={"password": password})

    def steal_session(self, victim: TestClient) -> TestClient:
        """Another browser carrying a copy of the victim's cookies (a stolen session)."""
        thief = self.client()
        thief.cookies.update(victim.cookies)
        return thief

    def table(self, sql: str, *params: object, title: str = "") -> Table:
        """The result of a query on the lab's database, as a table."""
        with self.db() as db:
            cursor = db.execute(sql, params)
            columns = [d[0] for d in cursor.description or ()]
            return table(columns, cursor.fetchall(), title)

    def inbox(self, address: str) -> Table:
        """The dev mailbox of one address: what its owner could read."""
        return self.table(
            "SELECT id, subject, body, link FROM outbox WHERE to_addr = ? COLLATE NOCASE"
            " ORDER BY id",
            address,
            title=f"Inbox of {address}",
        )

    def routes(self) -> Table:
        """Every API route that needs a session or a key, the guards in front of it sorted into
        the three questions of the pattern, and which exercise file wrote it."""
        files = {e.file.removesuffix(".py"): self.impl.shown(e) for e in load_course().exercises}
        rows = []
        for route in _api_routes(self.app.app.routes):
            found = _guards(route.dependant)
            if not found or route.path.startswith("/dev"):
                continue
            answers = [
                ", ".join(label for name, (q, label) in GUARDS.items() if q == n and name in found)
                for n in range(3)
            ]
            # Impl.load names a module stepup_impl_<n>_<file stem>.
            module = getattr(route.endpoint, "__module__", "")
            written = next((f for stem, f in files.items() if module.endswith(f"_{stem}")), "")
            rows.extend([m, route.path, *answers, written] for m in sorted(route.methods))
        rows.sort(key=lambda r: (r[1], r[0]))
        columns = ["method", "path", "who are you?", "may you?", "prove it recently", "written in"]
        return table(columns, rows, "The app's routes and their guards")


# Guard dependency → (question of the pattern, how the tour names it)
GUARDS = {
    "get_current_user": (0, "session"),
    "get_api_key": (0, "API key"),
    "require_org_settings": (1, "org:settings"),
    "require_org_members": (1, "org:members"),
    "require_recent_auth": (2, "yes"),
}


def _api_routes(routes: Sequence[Any]) -> Iterator[Any]:
    """Every route with dependencies, looking inside included routers (FastAPI keeps them
    nested since 0.16x)."""
    for route in routes:
        if hasattr(route, "dependant"):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _guards(dependant: Any) -> set[str]:
    names = set()
    for sub in dependant.dependencies:
        name = getattr(sub.call, "__name__", "")
        if name in GUARDS:
            names.add(name)
        names |= _guards(sub)
    return names


def start(impl: str | None = None) -> NotebookLab:
    """A fresh app with its own database file, for one notebook (run again to start over)."""
    implementation_ = implementation(impl)
    # Sessions idle out after 30 minutes in the real app; a student may spend longer on a task
    # before running the next cell, so the people of a notebook stay signed in for a day.
    settings = lab_settings(session_idle_seconds=NOTEBOOK_SESSION_SECONDS)
    folder = Path(settings.db_path).parent
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    lab = NotebookLab(settings, LiveApp(settings, implementation_))
    lab.app.app  # noqa: B018 - build once now, so a broken exercise file shows up in this cell
    _register_formatters()
    return lab


# --- responses and rows, shown readably ---------------------------------------------------------


def describe(response: httpx.Response) -> str:
    """``403 Forbidden ← POST /me/2fa/setup`` followed by the body, pretty-printed."""
    request = response.request
    head = f"{response.status_code} {response.reason_phrase} ← {request.method} {request.url.path}"
    try:
        body = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        body = response.text[:300]
    return f"{head}\n{body}" if body else head


def _register_formatters() -> None:
    """In a kernel, a cell ending in a response or a database row shows its content."""
    shell = _ipython()
    if shell is None:
        return
    plain = shell.display_formatter.formatters["text/plain"]
    plain.for_type(httpx.Response, lambda r, p, cycle: p.text(describe(r)))
    plain.for_type(sqlite3.Row, lambda row, p, cycle: p.pretty(dict(row)))


def _ipython() -> Any:
    module = sys.modules.get("IPython")
    return module.get_ipython() if module is not None else None


def brief(response: httpx.Response) -> str:
    """``403 reauth_required``: the status and the body's machine-readable code."""
    return f"{response.status_code} {_json_field(response, 'code')}".strip()


def outcomes(rows: Sequence[tuple[str, object, object]], title: str = "") -> Table:
    """Rows of (what was tried, what should happen, what happened) → a table with ✓ or ✗.

    For a response, the expected value is a status, optionally followed by the body's ``code``
    or its ``error`` message: ``"403"``, ``"403 reauth_required"``, ``"409 Email already in
    use"``. Any other value must equal the expected one, type included."""
    shown = []
    for what, expected, got in rows:
        says = ""
        if isinstance(got, httpx.Response):
            says = _json_field(got, "error") or _json_field(got, "message")
            status, _, detail = str(expected).partition(" ")
            code = _json_field(got, "code")
            good = str(got.status_code) == status and detail in ("", code, says)
            got = brief(got)
        else:
            good = type(got) is type(expected) and got == expected
        shown.append([what, _shown(expected), _shown(got), "✓" if good else "✗", says])
    if not any(row[-1] for row in shown):
        return table(["what", "expected", "got", ""], [row[:-1] for row in shown], title)
    return table(["what", "expected", "got", "", "the app says"], shown, title)


def _shown(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


class NotYet:
    """What a call gave instead of an answer: shown, never raised, so the cell still runs."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        if isinstance(self.error, NotImplementedError):
            return f"not implemented yet ({self.error})"
        return f"raised {type(self.error).__name__}: {self.error}"

    __str__ = __repr__


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, or a :class:`NotYet` saying what it raised: a stub that
    is not written yet, or a deliberate failure such as ``StepUpFailed``. (Call the function
    directly when you want the whole traceback.)"""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        return NotYet(exc)


# --- time travel, one cell at a time -------------------------------------------------------------


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
        return datetime.now(UTC)

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
        self.start = (start or datetime.now(UTC)).replace(microsecond=0)
        self._freeze: Any = None

    def __enter__(self) -> TravelClock:
        self._freeze = frozen_clock(self.start)
        clock = TravelClock(self._freeze.__enter__(), self.start)
        shell = _ipython()
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
        shell = _ipython()
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


# --- exercise 3: a person walking through sensitive actions --------------------------------------


class Modal:
    """Plays the person at the "Confirm your identity" dialog: gives ``answers`` in turn (the
    last one again and again) and keeps every challenge it was shown."""

    def __init__(self, *answers: dict[str, str]) -> None:
        self.answers = list(answers) or [{"password": PASSWORD}]
        self.asked: list[dict[str, Any]] = []

    def __call__(self, challenge: dict[str, Any]) -> dict[str, str]:
        self.asked.append(challenge)
        if len(self.asked) > 20:
            raise RuntimeError("the modal was opened more than 20 times: is there a loop?")
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


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
    lab: NotebookLab,
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
            code = _json_field(response, "code")
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


def _json_field(response: httpx.Response, name: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(name, "")) if isinstance(body, dict) else ""


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


# --- the course: exercises, hints, and the check table ------------------------------------------


def course() -> Table:
    """The exercises in order, with the file to edit and the notebook that goes with it."""
    impl = implementation()
    rows = [
        [e.id, e.title, impl.shown(e), e.notebook, len(e.tasks), e.points]
        for e in load_course().exercises
    ]
    return table(["id", "exercise", "you edit", "notebook", "tasks", "points"], rows, "The course")


def hints(exercise_id: str) -> Table:
    exercise = load_course().exercise(exercise_id)
    rows = [[t.n, t.title, "\n".join(t.hints)] for t in exercise.tasks]
    return table(["task", "what", "hints"], rows, f"Hints for {exercise.id}: {exercise.title}")


def check(exercise_id: str, impl: str | None = None) -> Table:
    """Run one exercise's graded tests (in a child process) and show task by task what passes.
    Never raises: an untouched stub is simply every task still to do."""
    exercise = load_course().exercise(exercise_id)
    try:
        from course_app.grading.engine import check as run_check  # spawns pytest: check cells only

        chosen = implementation(impl)
        score, _ = run_check(chosen.folder, [exercise.id])
    except Exception as exc:  # the check cell must never crash the notebook
        rows = [[t.n, t.title, "✗", f"0/{t.points}", "not checked", ""] for t in exercise.tasks]
        trouble = [f"the check could not run: {type(exc).__name__}: {exc}"]
        return _check_table(exercise, rows, trouble, exercise.file, impl or "?")
    rows = []
    for task_score in score.tasks:
        task, failure = task_score.task, task_score.first_failure
        message = _readable(failure.message or failure.status) if failure else ""
        hint = task.hints[0] if task.hints and not task_score.passed else ""
        status = "✓" if task_score.passed else "✗"
        rows.append(
            [task.n, task.title, status, f"{task_score.earned}/{task.points}", message, hint]
        )
    return _check_table(exercise, rows, score.problems, chosen.shown(exercise), chosen.spec)


def _check_table(
    exercise: Exercise, rows: list[list[object]], trouble: list[str], where: str, label: str
) -> Table:
    passed = sum(row[2] == "✓" for row in rows)
    total = len(exercise.tasks)
    if passed == total and not trouble:
        footer = "Every task passes. Well done!"
    else:
        todo = next((row[0] for row in rows if row[2] != "✓"), None)
        step = f"Next: {where}, task {todo}. " if todo is not None else ""
        footer = f"{step}All hints: `stepup hint {exercise.id}`."
        footer += "".join(f"\n! {p}" for p in trouble)
    return Table(
        ["task", "what", "status", "points", "message", "hint"],
        rows,
        f"{exercise.id} — {exercise.title}: {passed}/{total} tasks pass ({label})",
        footer,
        {
            "class": "stepup-check",
            "data-exercise": exercise.id,
            "data-passed": str(passed),
            "data-tasks": str(total),
        },
    )


def _readable(message: str) -> str:
    return message.removeprefix("AssertionError: ")


# --- keeping committed notebooks clean ------------------------------------------------------------


def problems(path: Path) -> list[str]:
    """Why a notebook is not fit to commit: outputs, execution counts, extra metadata."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    metadata = notebook.get("metadata")
    if metadata != {"kernelspec": KERNELSPEC}:
        found.append(f"its metadata should be the python3 kernelspec only, not {metadata}")
    for n, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("outputs"):
            found.append(f"cell {n} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {n} has an execution count")
        if cell.get("metadata"):
            found.append(f"cell {n} has metadata {sorted(cell['metadata'])}")
    return [f"{path}: {p}" for p in found]


def strip(path: Path) -> bool:
    """Remove outputs, execution counts and metadata in place; True when the file changed."""
    import nbformat  # the command line only: about a second to import

    before = Path(path).read_text(encoding="utf-8")
    notebook = nbformat.reads(before, as_version=4)
    notebook.metadata = nbformat.NotebookNode({"kernelspec": dict(KERNELSPEC)})
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode()
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(notebook)
    after = nbformat.writes(notebook)
    if not after.endswith("\n"):
        after += "\n"
    if after == before:
        return False
    Path(path).write_text(after, encoding="utf-8")
    return True


@dataclass
class Run:
    """One notebook executed top to bottom in a fresh kernel."""

    path: Path
    impl: str
    seconds: float  # executing the cells; the kernel's start is not counted
    notebook: Any  # the executed notebook (nbformat), outputs included
    error: str | None = None


def run(path: Path, impl: str, timeout: int = 120) -> Run:
    """Execute ``path`` in a new ``python3`` kernel started in the notebook's folder, with
    ``STEPUP_IMPL=impl``, as CI and a student on a fresh machine would."""
    import nbformat  # Jupyter only here, for CI and the command line
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = None
    with client.setup_kernel(env=os.environ | {ENV_VAR: impl}):
        began = time.perf_counter()
        try:
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
        except CellExecutionError as exc:
            error = str(exc)
        seconds = time.perf_counter() - began
    return Run(path, impl, seconds, notebook, error)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_app.notebook",
        description="Keep committed notebooks free of outputs and extra metadata.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--strip", action="store_true", help="strip the notebooks in place")
    action.add_argument("--check", action="store_true", help="fail if any notebook needs it")
    action.add_argument("--run", action="store_true", help="execute them and print the times")
    parser.add_argument("--impl", default=None, help="with --run: solutions, exercises or PATH")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.run:
        return _run_all(args.notebooks, args.impl or os.environ.get(ENV_VAR) or NOTEBOOK_DEFAULT)
    if args.strip:
        for path in args.notebooks:
            print(f"{'stripped' if strip(path) else 'clean   '} {path}")
        return 0
    found = [p for path in args.notebooks for p in problems(path)]
    print("\n".join(found) or f"{len(args.notebooks)} notebook(s) clean")
    return 1 if found else 0


def _run_all(paths: Sequence[Path], impl: str) -> int:
    total, failed = 0.0, 0
    for path in paths:
        done = run(path, impl)
        total += done.seconds
        failed += done.error is not None
        state = "ok" if done.error is None else "FAILED"
        print(f"{done.seconds:6.1f} s  {path.name}  ({impl}) {state}", flush=True)
        if done.error:
            print(done.error[-3000:])
    print(f"{total:6.1f} s  in all, kernel starts not counted")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
