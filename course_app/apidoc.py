"""The API's contract, told truthfully to clients (and to schema-driven fuzzers).

- The OpenAPI schema documents the error answers: any 4xx is the JSON error body of
  ``course_app.errors``, and a 503 says the database is unavailable and nothing changed.
- A 405 lists in ``Allow`` every method the path really serves.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import Scope


class ErrorBody(BaseModel):
    """``{"error": message, "code": machine-readable}`` plus fields some errors add
    (``max_age``, ``methods``, ``level`` and ``action`` for ``reauth_required``, which also
    carries an RFC 9470 ``WWW-Authenticate`` challenge; ``retry_after`` for ``rate_limited``,
    ``details`` for ``invalid_request``)."""

    model_config = ConfigDict(extra="allow")

    error: str
    code: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request was refused; `error` says why."},
    503: {
        "model": ErrorBody,
        "description": "The database is unavailable (full, read-only, locked too long); "
        "nothing was changed. Retry after `Retry-After` seconds.",
    },
}


def allowed_methods(app: Starlette, scope: Scope) -> list[str]:
    """Every method some route serves at this path. Starlette's own 405 names only the first
    route that matched the path, so ``OPTIONS /me`` answered ``Allow: GET`` although
    ``DELETE /me`` exists too."""
    methods: set[str] = set()
    for route in app.router.routes:
        served = getattr(route, "methods", None)
        if served and route.matches(scope)[0] is not Match.NONE:
            methods |= served
    return sorted(methods)


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    allow = ", ".join(allowed_methods(request.app, request.scope))
    return JSONResponse({"error": "Method Not Allowed"}, status_code=405, headers={"Allow": allow})


def install_method_not_allowed(app: Starlette) -> None:
    app.add_exception_handler(405, method_not_allowed)
