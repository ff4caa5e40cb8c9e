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

The modules: ``live`` (the app that follows the student's files), ``display`` (tables,
responses, ``attempt``), ``travel`` (``time_travel``), ``walk`` (exercise 3's walk and
timeline), ``progress`` (``course``, ``hints``, ``check``), and ``__main__``, the command line
CI uses, which a kernel never imports.

Jupyter stays out of the import path: IPython is used only when a kernel already loaded it,
matplotlib only when a timeline is drawn, nbformat and nbclient only by the command line.

    python -m course_kit.notebook --strip notebooks/*.ipynb   # drop outputs and metadata
    python -m course_kit.notebook --check notebooks/*.ipynb   # fail if any are left
    python -m course_kit.notebook --run --impl solutions notebooks/*.ipynb   # execute, timed
"""

import atexit
import logging
import shutil
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from course_app.accounts import normalize_email
from course_app.security.passwords import hash_password
from course_kit.impl import Implementation
from course_kit.manifest import load_course
from course_kit.notebook.display import (
    Markdown,
    NotYet,
    Table,
    attempt,
    brief,
    describe,
    outcomes,
    register_formatters,
    table,
)
from course_kit.notebook.live import LiveApp
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
    "Markdown",
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
        """The exercise file, imported afresh: what is saved now is what runs. A file that does
        not import raises ``ImplementationError``, which a notebook shows in one line."""
        return self.impl.load(load_course().exercise(exercise_id))

    def steal_session(self, victim: TestClient) -> TestClient:
        """Another browser carrying a copy of the victim's cookies (a stolen session)."""
        thief = self.client()
        thief.cookies.update(victim.cookies)
        return thief

    def table(self, sql: str, *params: object, title: str = "", empty: str = "(none)") -> Table:
        """The result of a query on the lab's database, as a table."""
        with self.db() as db:
            cursor = db.execute(sql, params)
            columns = [d[0] for d in cursor.description or ()]
            return table(columns, cursor.fetchall(), title, empty)

    def inbox(self, address: str) -> Table:
        """The dev mailbox of one address: what its owner could read."""
        return self.table(
            "SELECT id, subject, body, link FROM outbox WHERE to_addr = ? COLLATE NOCASE"
            " ORDER BY id",
            address,
            title=f"Inbox of {address}",
            empty="empty: no mail was sent to this address",
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


def start(impl: str | None = None) -> NotebookLab:
    """A fresh app with its own database file, for one notebook (run again to start over)."""
    implementation_ = implementation(impl)
    # Sessions idle out after 30 minutes in the real app; a student may spend longer on a task
    # before running the next cell, so the people of a notebook stay signed in for a day.
    settings = lab_settings(session_idle_seconds=NOTEBOOK_SESSION_SECONDS)
    folder = Path(settings.db_path).parent
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    lab = NotebookLab(settings, LiveApp(settings, implementation_))
    lab.app.app  # noqa: B018 - build it now: this cell takes the time, not the first person's
    # Every answer shows in its cell; the app's log lines for an operator (a 409's "integrity
    # error") would only repeat one in a pink stderr box above it.
    app_log = logging.getLogger("course_app")
    if not any(isinstance(h, logging.NullHandler) for h in app_log.handlers):
        app_log.addHandler(logging.NullHandler())
    register_formatters()
    return lab
