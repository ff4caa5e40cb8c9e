"""One order on every route (issue 18): who are you (session), what may you do (permission),
is your address proven, did you prove it recently (step-up).

FastAPI resolves a route's dependencies depth first, in the order of its parameters, each
once: the order it calls the guards in is the order of the answers a client can get. Checks
a route makes in its body are not seen here; the HTTP tests (``test_power_ends.py``,
``test_memberships.py``) cover those."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from course_app import deps
from course_kit.lab import Lab

RANK: dict[Callable[..., Any], int] = {
    deps.get_session: 0,
    deps.get_membership: 1,
    deps.require_org_settings: 1,
    deps.require_org_members: 1,
    deps.require_member_removal: 1,
    deps.require_verified_email: 2,
    deps.require_recent_auth: 3,
}


def calls(dependant: Dependant, seen: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """The dependencies' calls in the order FastAPI makes them (sub-dependencies first)."""
    for sub in dependant.dependencies:
        calls(sub, seen)
        if sub.call is not None and sub.call not in seen:
            seen.append(sub.call)
    return seen


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every route, inside included routers too (FastAPI keeps those wrapped)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def test_every_route_asks_in_one_order(lab: Lab) -> None:
    routes = list(api_routes(lab.app.routes))
    guarded = 0
    for route in routes:
        guards = [call for call in calls(route.dependant, []) if call in RANK]
        ranks = [RANK[call] for call in guards]
        names = [call.__name__ for call in guards]
        assert ranks == sorted(ranks), f"{sorted(route.methods)} {route.path} asks {names}"
        guarded += deps.require_recent_auth in guards
    assert guarded >= 15, "the step-up routes were not found: is the walk broken?"
