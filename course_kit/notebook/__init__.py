"""Helpers for the course notebooks.

    import course_kit.notebook as nb
    lab = nb.start()                      # the app, in-process, on a throwaway database
    alice = lab.person("alice@example.com")
    alice.post("/me/2fa/setup")           # a cell ending in a response shows status and body
    with nb.time_travel() as clock:       # a frozen clock for the body of this one cell
        clock.tick(minutes=5)
    nb.check("ex01")                      # that exercise's graded tests, as a table

The app mounts the implementation named by ``STEPUP_IMPL`` (default: the student's
``exercises/``) and is rebuilt whenever one of its files changes, so an edit shows at the next
request. Everything builds on ``course_kit.lab.Lab`` and ``course_kit.timetravel``.

The modules: ``display`` (tables, responses, ``attempt``), ``travel`` (``time_travel``),
``walk`` (exercise 3's walk and timeline), ``progress`` (``course``, ``hints``, ``check``), and
``__main__``, the command line CI uses, which a kernel never imports.

Jupyter stays out of the import path: IPython is used only when a kernel already loaded it,
matplotlib only when a timeline is drawn, nbformat and nbclient only by the command line.

    python -m course_kit.notebook --strip notebooks/*.ipynb   # drop outputs and metadata
    python -m course_kit.notebook --check notebooks/*.ipynb   # fail if any are left
    python -m course_kit.notebook --run --impl solutions notebooks/*.ipynb   # execute, timed
"""

import atexit
import shutil
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from course_app.accounts import normalize_email
from course_app.security.passwords import hash_password
from course_app.settings import Settings
from course_kit.impl import Implementation, ImplementationError
from course_kit.manifest import load_course
from course_kit.notebook.display import (
    NotYet,
    Table,
    attempt,
    brief,
    describe,
    outcomes,
    register_formatters,
    table,
)
from course_kit.notebook.progress import check, course, hints, implementation
from course_kit.notebook.travel import mmss, time_travel

with warnings.catch_warnings():
    # Starlette's nudge towards httpx2 is not the student's to act on (pyproject hides it too).
    # It fires when starlette.testclient is first imported: by course_kit.lab, used below
    # and by the walk.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

    from course_kit.lab import Lab, Modal, path_of, token_of
    from course_kit.notebook.walk import walk
    from course_kit.people import PASSWORD, lab_settings

__all__ = [  # what the notebooks use, as nb.<name>
    "PASSWORD",
    "LiveApp",
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
    "mmss",
    "outcomes",
    "path_of",
    "start",
    "table",
    "time_travel",
    "token_of",
    "walk",
]

NOTEBOOK_SESSION_SECONDS = 24 * 3600


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
            app = self.impl.build_app(self.settings, load_course().exercises)
            # Replaces the app's own handler of the unexpected, which logs the whole traceback.
            app.add_exception_handler(Exception, self._crashed)
            self._app = app
            self._sources = sources
            self.builds += 1
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            app = self.app
        except ImplementationError as exc:  # a file that does not import, said in one row
            if scope["type"] == "http":
                await crash_response(str(exc))(scope, receive, send)
            return
        await app(scope, receive, send)

    async def _crashed(self, _: Request, exc: Exception) -> JSONResponse:
        return crash_response(raised_at(exc, self.impl))

    def __getattr__(self, name: str) -> Any:
        """Anything else (``state``, ``routes``, …) is the current app's."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.app, name)


@dataclass
class NotebookLab(Lab):
    """A :class:`course_kit.lab.Lab` whose app follows the student's edits."""

    app: LiveApp  # type: ignore[assignment]
    persistent_clients = False
    # Each person by the address `person` first made them with: their user id.
    people: dict[str, int] = field(default_factory=dict)

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

    def person(
        self,
        email: str,
        password: str = PASSWORD,
        verified: bool = True,
        two_factor: bool = False,
    ) -> TestClient:
        """Sign up, verify and sign in (see ``Lab.person``), in a browser of their own.

        A person is known by the address they were first made with, whatever it is now. Asked
        for again, as when a cell runs a second time, they come back as that cell first found
        them: that address, ``password`` and verification restored (two-factor sign-in as
        asked, with a new secret), signed in in a new browser. So a cell that changes the
        address or the password gives the same answers when it runs again."""
        name = normalize_email(email) or email
        user_id = self.people.get(name)
        if user_id is None and self.user(email) is None:
            client = super().person(email, password, verified, two_factor)
            self.people[name] = self._user_id(email)
            return client
        if user_id is not None:
            self._restore(user_id, email, password, verified)
            if two_factor:
                self.secrets[name] = self.enable_two_factor(user_id)
        client = self.client()
        self.login(client, email, password)
        return client

    def _user_id(self, email: str) -> int:
        row = self.user(email)
        assert row is not None, f"no account uses {email}"
        return int(row["id"])

    def _restore(self, user_id: int, email: str, password: str, verified: bool) -> None:
        holder = self.user(email)
        if holder is not None and holder["id"] != user_id:
            raise RuntimeError(
                f"{email} now belongs to another account: run the notebook again from the top"
                " (Run → Run All Cells) for a fresh start"
            )
        password_hash = hash_password(password, self.settings.bcrypt_rounds)
        with self.db() as db:
            db.execute(
                "UPDATE users SET email = ?, email_verified = ?, password_hash = ?,"
                " totp_secret = NULL, totp_enabled = 0, totp_last_step = NULL WHERE id = ?",
                (normalize_email(email) or email, int(verified), password_hash, user_id),
            )

    def client(self) -> TestClient:
        """A new browser. A route that crashes answers it with one readable 500 (where it
        raised, and what), instead of a framework traceback in the cell."""
        origin = self.settings.origin
        client = TestClient(
            self.app, base_url=origin, headers={"origin": origin}, raise_server_exceptions=False
        )
        self.clients.append(client)
        return client

    def exercise(self, exercise_id: str) -> ModuleType:
        """The exercise file, imported afresh: what is saved now is what runs."""
        return self.impl.load(load_course().exercise(exercise_id))

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
        rows: list[list[str]] = []
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


# Guard dependency → (question of the pattern, how the tour names it). Every session guard
# (CurrentSession, CurrentUser, RecentAuth) builds on get_session, so it alone stands for them.
GUARDS = {
    "get_session": (0, "session"),
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


def raised_at(exc: BaseException, impl: Implementation) -> str:
    """``exercises/ex01_email_change.py:33 raised ValueError: oops``."""
    where = impl.where(exc)
    return f"{where + ' ' if where else ''}raised {type(exc).__name__}: {exc}"


def crash_response(raised: str) -> JSONResponse:
    """The 500 the lab answers for a crash, as the app does, plus where it happened."""
    body = {"error": "Internal error; nothing was changed", "code": "internal", "raised": raised}
    return JSONResponse(body, status_code=500)


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
    register_formatters()
    return lab
