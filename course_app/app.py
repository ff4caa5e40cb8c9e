"""The app factory: a fresh app per call (per test, per notebook), with the given routers (the
exercises' routes) mounted beside the reference routes and the given policy rows (an
exercise's) laid over the step-up policy. Which files those come from is the course kit's
business (``course_kit.impl``), never the app's."""

from collections.abc import Mapping, Sequence
from contextlib import closing

from fastapi import APIRouter, FastAPI

from course_app.accounts import highest_password_cost
from course_app.apidoc import ERROR_RESPONSES, install_method_not_allowed
from course_app.csrf import CrossSiteGuard
from course_app.db import connect, init_db
from course_app.errors import install_handlers
from course_app.headers import SecurityHeaders
from course_app.middleware import BodySizeLimit
from course_app.policy import POLICY, Requirement, merged
from course_app.proxies import HostAllowList, TrustedProxies
from course_app.routes import auth, dev, me, orgs, pages, passkeys
from course_app.security.passwords import dummy_hash
from course_app.settings import Settings, environment_settings


def create_app(
    settings: Settings | None = None,
    routers: Sequence[APIRouter] = (),
    policy: Mapping[str, Requirement] | None = None,
) -> FastAPI:
    """Build the app on ``settings`` (default: the ``STEPUP_*`` environment), with ``routers``
    mounted after the reference routes and the rows of ``policy`` laid over the step-up
    policy's defaults (``course_app/policy.py``; an unknown action is a ValueError)."""
    settings = settings or environment_settings()
    steps = merged(POLICY, policy or {})
    init_db(settings.db_path)
    with closing(connect(settings.db_path)) as db:
        highest = highest_password_cost(db)  # a lowered cost leaves older, dearer hashes
    dummy_hash(max(settings.bcrypt_rounds, highest))  # the first unknown sign-in costs the same

    explorer = settings.dev_mode or settings.api_docs  # a map of the API: not for production
    app = FastAPI(
        title="Step-Up Auth Lab",
        summary="Re-authenticate before sensitive actions: the reference app of the course.",
        version="0.1.0",
        responses=ERROR_RESPONSES,
        docs_url="/docs" if explorer else None,
        redoc_url="/redoc" if explorer else None,
        openapi_url="/openapi.json" if explorer else None,
    )
    app.state.settings = settings  # served to routes by get_settings
    app.state.highest_rounds = highest  # served to routes by deps.get_rejection_rounds
    app.state.policy = steps  # served to the step-up guard by deps.get_step_up
    install_handlers(app)
    install_method_not_allowed(app)
    # Outermost last: headers on every answer, then the client's address (trusted proxies),
    # the Host check, CSRF (refuse before reading a body), then the body's size and time.
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds
    )
    app.add_middleware(CrossSiteGuard, origin=settings.origin)
    app.add_middleware(HostAllowList, origin=settings.origin)
    app.add_middleware(TrustedProxies, networks=settings.proxy_networks)
    app.add_middleware(SecurityHeaders)

    for router in (auth.router, me.router, orgs.router, passkeys.router, pages.router):
        app.include_router(router)
    for router in routers:
        app.include_router(router)
    if settings.dev_mode:
        app.include_router(dev.router)
        app.include_router(pages.dev_router)
    pages.mount_static(app)
    return app
