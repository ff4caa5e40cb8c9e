"""Graded tests for exercise 3: the client that plays the frontend's modal and retry."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_app.deps import RecentAuth
from course_app.errors import ReauthRequired
from course_app.grading.expect import expect, expect_status
from course_app.impl import Implementation
from course_app.testing import PASSWORD, Lab, Modal

task = pytest.mark.task


class Echo:
    """A guarded route that records what reached it, to see what a retry carries."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.router = APIRouter()

        @self.router.api_route("/lab/echo", methods=["POST", "PUT", "PATCH", "DELETE"])
        async def echo(request: Request, _: RecentAuth) -> dict[str, str]:
            self.seen.append((request.method, (await request.body()).decode(), request.url.query))
            return {"ok": "yes"}

        @self.router.post("/lab/never-recent")
        async def never_recent(request: Request) -> None:
            # Refuses even a fresh confirmation: a client must retry once, then give up.
            self.seen.append((request.method, (await request.body()).decode(), request.url.query))
            raise ReauthRequired(300, ["password"])


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def lab(make_lab, echo: Echo, clock: FrozenDateTimeFactory) -> Lab:
    lab = make_lab()  # only reference routes: ex03 must not depend on exercises 1 and 2
    lab.app.include_router(echo.router)
    return lab


@pytest.fixture
def student(impl: Implementation) -> Callable[[str], Any]:
    """``student("StepUpClient")``: a name from the exercise file, loaded once per test."""
    module = impl.load("ex03")
    return lambda name: impl.get("ex03", name, module)


def client_for(student, http: TestClient, modal: Modal, **kwargs: Any):
    return student("StepUpClient")(http, modal, **kwargs)


# --- task 1: recognise a challenge -------------------------------------------------------------


@task("ex03", 1)
def test_a_reauth_403_from_the_server_is_a_challenge(lab: Lab, student) -> None:
    alice = lab.person("alice@example.com")
    r = alice.post("/me/2fa/setup")
    expect_status(r, 403, "setup: POST /me/2fa/setup unconfirmed", "reauth_required")
    expect(student("needs_step_up")(r) is True, "needs_step_up() said False to 403 reauth_required")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(403, json={"error": "Forbidden", "code": "forbidden"}),
        httpx.Response(403, text="<html>Forbidden</html>"),
        httpx.Response(403, json=["reauth_required"]),
        httpx.Response(401, json={"error": "Authentication required"}),
        httpx.Response(200, json={"code": "reauth_required"}),
    ],
    ids=["forbidden", "not-json", "json-list", "401", "200"],
)
@task("ex03", 1)
def test_anything_else_is_not_a_challenge(student, response: httpx.Response) -> None:
    verdict = student("needs_step_up")(response)
    expect(
        verdict is False,
        f"needs_step_up() said {verdict!r} to {response.status_code} {response.text[:60]};"
        " only 403 with code 'reauth_required' is a challenge",
    )


# --- task 2: confirm, asking again on a wrong answer but not forever ----------------------------


@task("ex03", 2)
def test_confirm_identity_posts_the_modals_answer(lab: Lab, student) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal()
    client = client_for(student, alice, modal)
    client.confirm_identity({"code": "reauth_required", "methods": ["password"], "max_age": 300})
    expect(client.prompts == 1, f"prompts should be 1 after one confirmation, got {client.prompts}")
    me = expect_status(alice.get("/me"), 200, "GET /me after confirm_identity()")
    expect(me["reauth"]["recent"] is True, "the session is not confirmed after confirm_identity()")


@task("ex03", 2)
def test_a_wrong_answer_asks_again_within_the_same_prompt(lab: Lab, student) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal({"password": "wrong password"}, {"password": PASSWORD})
    client = client_for(student, alice, modal)
    client.confirm_identity({"code": "reauth_required", "methods": ["password"], "max_age": 300})
    expect(len(modal.challenges) == 2, f"the modal was asked {len(modal.challenges)} times, not 2")
    expect(client.prompts == 1, f"one modal with two tries is one prompt; got {client.prompts}")


@task("ex03", 2)
def test_always_wrong_gives_up_with_a_clear_error(lab: Lab, student) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal({"password": "wrong password"})
    client = client_for(student, alice, modal, max_attempts=3)
    with pytest.raises(student("StepUpFailed")) as failure:
        client.confirm_identity({"code": "reauth_required", "methods": ["password"]})
    expect(len(modal.challenges) <= 3, f"asked {len(modal.challenges)} times with max_attempts=3")
    expect(
        "Invalid credentials" in str(failure.value),
        f"the error should pass on the server's message, got {str(failure.value)!r}",
    )


# --- task 3: retry once, and the five-minute window ----------------------------------------------


@task("ex03", 3)
def test_three_actions_within_five_minutes_prompt_once(
    lab: Lab, student, echo: Echo, clock: FrozenDateTimeFactory
) -> None:
    alice = lab.person("alice@example.com")
    phone = lab.client()
    lab.login(phone, "alice@example.com", PASSWORD)
    phone_id = next(s["id"] for s in alice.get("/me/sessions").json() if not s["current"])
    modal = Modal()
    client = client_for(student, alice, modal)

    r = client.request("POST", "/me/2fa/setup")  # +0: prompts, then retried
    expect_status(r, 200, "POST /me/2fa/setup through StepUpClient (stale session)")
    clock.tick(120)  # +2 min
    r = client.request("DELETE", f"/me/sessions/{phone_id}")
    expect_status(r, 204, "DELETE /me/sessions/{id} through StepUpClient 2 min later")
    clock.tick(179)  # +4 min 59 s
    r = client.request("POST", "/lab/echo", json={"n": 3})
    expect_status(r, 200, "a third sensitive action 4 min 59 s after confirming")
    expect(client.prompts == 1, f"three actions within 5 minutes prompted {client.prompts} times")

    clock.tick(2)  # 5 min 1 s after the confirmation: the window has closed
    r = client.request("POST", "/me/2fa/setup")
    expect_status(r, 200, "POST /me/2fa/setup 5 min 1 s after confirming")
    expect(
        client.prompts == 2, f"after the window closed, prompts should be 2, got {client.prompts}"
    )


@task("ex03", 3)
def test_the_retry_carries_the_original_method_url_and_body(lab: Lab, student, echo: Echo) -> None:
    alice = lab.person("alice@example.com")
    client = client_for(student, alice, Modal())
    r = client.request("PUT", "/lab/echo?q=1", json={"email": "new@example.com", "n": 1})
    expect_status(r, 200, "PUT /lab/echo?q=1 through StepUpClient (stale session)")
    expect(
        echo.seen == [("PUT", '{"email":"new@example.com","n":1}', "q=1")],
        f"the guarded route received {echo.seen}; expected the original PUT, body and query once",
    )


@task("ex03", 3)
def test_no_prompt_inside_the_window(lab: Lab, student, echo: Echo) -> None:
    alice = lab.person("alice@example.com")
    expect_status(alice.post("/auth/confirm", json={"password": PASSWORD}), 200, "confirming")
    client = client_for(student, alice, Modal())
    r = client.request("POST", "/lab/echo", json={"n": 1})
    expect_status(r, 200, "a sensitive action right after confirming")
    expect(client.prompts == 0, f"prompted {client.prompts} times inside an open window")
    expect(len(echo.seen) == 1, f"the request was sent {len(echo.seen)} times, not once")


@task("ex03", 3)
def test_forbidden_is_returned_without_a_prompt_or_retry(lab: Lab, student) -> None:
    owner = lab.person("alice@example.com")
    org_id = lab.create_org(owner)
    bob = lab.person("bob@example.com")
    lab.add_member(owner, org_id, "bob@example.com")
    modal = Modal()
    client = client_for(student, bob, modal)
    r = client.request("PUT", f"/orgs/{org_id}/verified-domain", json={"domain": "acme.test"})
    expect_status(r, 403, "a member setting the org's domain through StepUpClient", "forbidden")
    expect(modal.challenges == [], "a 403 'forbidden' opened the modal: asking cannot fix it")


@task("ex03", 3)
def test_the_retry_happens_once(lab: Lab, student, echo: Echo) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal()
    client = client_for(student, alice, modal)
    r = client.request("POST", "/lab/never-recent", json={"n": 1})
    expect_status(r, 403, "a route that keeps answering 403 reauth_required", "reauth_required")
    expect(
        len(echo.seen) == 2, f"the route was called {len(echo.seen)} times: once, then one retry"
    )
    expect(len(modal.challenges) == 1, f"the modal opened {len(modal.challenges)} times, not once")
