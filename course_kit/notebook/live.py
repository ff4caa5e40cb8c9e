"""The notebook's app: the reference app with the student's routers and policy rows, rebuilt
whenever one of their files changes, and a crash or a broken file answered with one readable 500.

The reference app's own routes (sign-up, sign-in, confirming, …) never depend on an exercise
file: a file that does not import leaves its routes out, and only a request that no route
answers, as one of that file's would have, is told what is wrong with it. So a syntax error in
exercise 5 shows in the notebook of exercise 5, and every other notebook works as before.
"""

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match

from course_app.app import create_app
from course_app.policy import Requirement
from course_app.settings import Settings
from course_kit.impl import Implementation, ImplementationError
from course_kit.manifest import load_course


class LiveApp:
    """An ASGI app that forwards to the course app, rebuilding it whenever a file of the
    implementation changed: edit ``exercises/ex01_….py``, save, and the next request uses it."""

    def __init__(self, settings: Settings, impl: Implementation) -> None:
        self.settings = settings
        self.impl = impl
        self.builds = 0
        # Why each exercise file that did not import is left out, in the student's words.
        self.broken: list[str] = []
        self._app: FastAPI | None = None
        self._sources: tuple[tuple[str, bytes], ...] = ()

    @property
    def app(self) -> FastAPI:
        sources = tuple((p.name, p.read_bytes()) for p in sorted(self.impl.folder.glob("*.py")))
        if self._app is None or sources != self._sources:
            routers, rows, self.broken = self._parts()
            app = create_app(self.settings, routers, rows)
            # Replaces the app's own handler of the unexpected, which logs the whole traceback.
            app.add_exception_handler(Exception, self._crashed)
            self._app = app
            self._sources = sources
            self.builds += 1
        return self._app

    def _parts(self) -> tuple[list[APIRouter], dict[str, Requirement], list[str]]:
        """The router and step-up policy rows of every exercise file that imports, and why
        the others do not."""
        routers: list[APIRouter] = []
        rows: dict[str, Requirement] = {}
        broken: list[str] = []
        for exercise in load_course().exercises:
            try:
                routers += self.impl.routers([exercise])
                rows |= self.impl.policy_rows([exercise])
            except ImplementationError as exc:
                broken.append(str(exc))
        return routers, rows, broken

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.app
        if scope["type"] == "http" and self.broken and not _routed(app, scope):
            # Most likely a route of the file that does not import: say why, in one row.
            await crash_response("; ".join(self.broken))(scope, receive, send)
            return
        await app(scope, receive, send)

    async def _crashed(self, _: Request, exc: Exception) -> JSONResponse:
        return crash_response(raised_at(exc, self.impl))

    def __getattr__(self, name: str) -> Any:
        """Anything else (``state``, ``routes``, …) is the current app's."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.app, name)


def _routed(app: FastAPI, scope: Any) -> bool:
    """Whether a route of ``app`` answers this request, method included."""
    return any(route.matches(dict(scope))[0] == Match.FULL for route in app.router.routes)


def raised_at(exc: BaseException, impl: Implementation) -> str:
    """``exercises/ex01_email_change.py:33 raised ValueError: oops``."""
    where = impl.where(exc)
    return f"{where + ' ' if where else ''}raised {type(exc).__name__}: {exc}"


def crash_response(raised: str) -> JSONResponse:
    """The 500 the lab answers for a crash, as the app does, plus where it happened."""
    body = {"error": "Internal error; nothing was changed", "code": "internal", "raised": raised}
    return JSONResponse(body, status_code=500)
