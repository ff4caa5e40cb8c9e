"""Every error leaves the app as JSON with an ``error`` message, never as a bare 500.

The error classes import no web framework: code that only raises or reads them (the grading
judge among it) does not pay for FastAPI's import.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from course_app.policy import Level, challenge

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

log = logging.getLogger("course_app")


class ApiError(Exception):
    """An answer for the client: status, message, optional machine-readable ``code``."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.code:
            body["code"] = self.code
        return body | self.extra


class ReauthRequired(ApiError):
    """Raised by the step-up guard: the session must confirm the user's identity again, at
    ``level`` or above, within ``max_age`` seconds of the request. ``methods``: the user's
    methods that reach the level. The body says it for our pages; the ``WWW-Authenticate``
    challenge (RFC 9470) says it for any API client."""

    def __init__(
        self,
        max_age: int,
        methods: list[str],
        level: Level = Level.ANY_FACTOR,
        action: str = "",
    ) -> None:
        super().__init__(
            403,
            "Re-authentication required",
            "reauth_required",
            headers={"WWW-Authenticate": challenge(action, level, max_age)},
            max_age=max_age,
            methods=methods,
            level=level.label,
            action=action,
        )


class Forbidden(ApiError):
    def __init__(self, message: str = "Forbidden") -> None:
        super().__init__(403, message, "forbidden")


class NotAuthenticated(ApiError):
    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(401, message, "not_authenticated")


class Superseded(ApiError):
    """Another request of the same person changed what this one's guards had read (it
    rotated the cookie, or changed the address or the password) before this one could write:
    nothing was done. The browser already holds the other request's answer."""

    def __init__(
        self, message: str = "Another request from this session got there first; nothing was done"
    ) -> None:
        super().__init__(409, message, "superseded")


class NotFound(ApiError):
    def __init__(self, message: str = "Not found") -> None:
        super().__init__(404, message, "not_found")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, status_code=status, headers=headers)


def _describe(errors: list[Any]) -> str:
    if any(err.get("type") == "json_invalid" for err in errors):
        return "Invalid request: the body is not valid JSON"
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def install_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.body(), exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return _json(exc.status_code, {"error": message}, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return _json(
            422, {"error": _describe(errors), "code": "invalid_request", "details": errors}
        )

    @app.exception_handler(NotImplementedError)
    async def not_implemented(_: Request, exc: NotImplementedError) -> JSONResponse:
        # A student's untouched stub: say which task, instead of a bare 500.
        return _json(501, {"error": f"Not implemented yet: {exc}", "code": "not_implemented"})

    @app.exception_handler(sqlite3.IntegrityError)
    async def conflict(_: Request, exc: sqlite3.IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc)
        return _json(409, {"error": "That conflicts with existing data", "code": "conflict"})

    @app.exception_handler(OverflowError)
    async def out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # An id like /orgs/99999999999999999999 parses as an int but SQLite cannot bind it.
        log.warning("number out of range: %s", exc)
        return _json(
            400, {"error": "A number in the request is out of range", "code": "invalid_request"}
        )

    @app.exception_handler(sqlite3.OperationalError)
    async def db_unavailable(request: Request, exc: sqlite3.OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        settings = getattr(request.app.state, "settings", None)
        if "readonly" in str(exc) and settings is not None:
            # After a read-only episode the database may be writable again while its -shm
            # is not: repair it now, so the client's retry (Retry-After) goes through.
            from course_app.db import repair_sidecars

            repair_sidecars(settings.db_path)
        return _json(
            503,
            {"error": "The database is unavailable; nothing was changed", "code": "db_unavailable"},
            {"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _json(500, {"error": "Internal error; nothing was changed", "code": "internal"})
