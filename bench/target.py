"""The app under measurement, in a process of its own so the load generator does not share
its interpreter (and GIL): ``python -m bench.target PORT DB_PATH [--rounds N] [--bare]``.

Three routes that do the same work and differ only in their guards:

- ``GET /bench/open``       the request's database connection, nothing else;
- ``GET /bench/signed-in``  plus ``CurrentUser`` (session cookie → session → user);
- ``GET /bench/step-up``    plus ``RecentAuth`` (the step-up guard);
- ``GET /bench/step-up-on-loop``  the same guard called from an ``async def`` dependency,
  i.e. on the event loop instead of a worker thread (a proposal, measured side by side).

``--bare`` strips the security middlewares (CSRF, headers, host check, proxies, body limit)
to measure what they cost.
"""

import argparse
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI

from course_app.app import create_app
from course_app.deps import (
    DB,
    CurrentSession,
    CurrentUser,
    RecentAuth,
    SettingsDep,
    require_recent_auth,
)
from course_app.models import Session
from course_kit.lab import lab_settings

router = APIRouter()


def _answer(db: DB) -> dict[str, Any]:
    return {"ok": db.execute("SELECT 1").fetchone()[0] == 1}


@router.get("/bench/open")
def open_route(db: DB) -> dict[str, Any]:
    return _answer(db)


@router.get("/bench/signed-in")
def signed_in(_: CurrentUser, db: DB) -> dict[str, Any]:
    return _answer(db)


@router.get("/bench/step-up")
def step_up(_: CurrentUser, __: RecentAuth, db: DB) -> dict[str, Any]:
    return _answer(db)


async def recent_auth_on_the_loop(
    session: CurrentSession, user: CurrentUser, db: DB, settings: SettingsDep
) -> Session:
    """``require_recent_auth`` without the hop to a worker thread FastAPI makes for every
    plain ``def`` dependency (the check reads no database while the session is recent)."""
    return require_recent_auth(session, user, db, settings)


@router.get("/bench/step-up-on-loop")
def step_up_on_loop(
    _: CurrentUser, __: Annotated[Session, Depends(recent_auth_on_the_loop)], db: DB
) -> dict[str, Any]:
    return _answer(db)


def build(port: int, db_path: str, rounds: int, bare: bool) -> FastAPI:
    settings = lab_settings(
        db_path=db_path,
        origin=f"http://localhost:{port}",
        bcrypt_rounds=rounds,
        reauth_window_seconds=3600,  # the run must not outlast the confirmation
    )
    app = create_app(settings)
    app.include_router(router)
    if bare:
        app.user_middleware.clear()
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("db_path")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args()
    app = build(args.port, args.db_path, args.rounds, args.bare)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
