"""Graded tests for exercise 3: the client that plays the frontend's modal and retry.

The student's client runs in the submission process and talks to the judge's own reference
app; what the judge believes comes from that app's request log and from the dialog it answers
itself (every prompt is a question to the judge), never from what the client reports.
"""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request

from course_app.deps import RecentAuth
from course_app.errors import ReauthRequired
from course_kit.testing import (
    PASSWORD,
    Clocks,
    Lab,
    Modal,
    ReferenceServer,
    RemoteClient,
    Student,
    StudentRaised,
    Subject,
    expect,
    expect_status,
    task,
    times,
)

CHALLENGE = {"code": "reauth_required", "methods": ["password"], "max_age": 300}


def echo_router() -> APIRouter:
    """Guarded routes whose requests the server's log records, to see what a retry carries."""
    router = APIRouter()

    @router.api_route("/lab/echo", methods=["POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request, _: RecentAuth) -> dict[str, str]:
        return {"ok": "yes", "seen": request.headers.get("x-trace", "")}

    @router.post("/lab/never-recent")
    async def never_recent() -> None:
        # Refuses even a fresh confirmation: a client must retry once, then give up.
        raise ReauthRequired(300, ["password"])

    return router


@pytest.fixture(scope="session")
def server(subject: Subject) -> Iterator[ReferenceServer]:
    server = ReferenceServer(subject)
    server.app.include_router(echo_router())
    yield server
    server.stop()


@pytest.fixture
def lab(server: ReferenceServer, clock: Clocks) -> Iterator[Lab]:
    """The judge's reference app (ex03 must not depend on exercises 1 and 2)."""
    lab = server.fresh()
    yield lab
    lab.close()


@pytest.fixture
def student(student_of: Callable[[str], Student]) -> Student:
    return student_of("ex03")


def client_for(
    student: Student, server: ReferenceServer, http: httpx.Client, modal: Modal, **kwargs: Any
) -> RemoteClient:
    return student.client(http, server, modal, **kwargs)


def echoed(server: ReferenceServer) -> list[tuple[str, str, str]]:
    return [(s.method, s.body, s.query) for s in server.log.seen if s.path == "/lab/echo"]


# --- task 1: recognise a challenge -------------------------------------------------------------


@task("ex03", 1)
def test_a_reauth_403_from_the_server_is_a_challenge(lab: Lab, student: Student) -> None:
    alice = lab.person("alice@example.com")
    r = alice.post("/me/2fa/setup")
    expect_status(r, 403, "setup: POST /me/2fa/setup unconfirmed", "reauth_required")
    verdict = student.call("needs_step_up", response=r)
    expect(verdict is True, f"needs_step_up() said {verdict!r} to 403 reauth_required")


@task("ex03", 1)
def test_the_code_decides_not_the_wording(student: Student) -> None:
    reworded = httpx.Response(
        403, json={"error": "Please confirm it's you", "code": "reauth_required"}
    )
    verdict = student.call("needs_step_up", response=reworded)
    expect(
        verdict is True,
        f"needs_step_up() said {verdict!r} to 403 with code 'reauth_required' and another"
        " message: the message is for people and may change, the code is for programs",
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(403, json={"error": "Forbidden", "code": "forbidden"}),
        httpx.Response(403, json={"error": "Re-authentication required", "code": "forbidden"}),
        httpx.Response(403, text="<html>Forbidden</html>"),
        httpx.Response(403, json=["reauth_required"]),
        httpx.Response(401, json={"error": "Authentication required"}),
        httpx.Response(200, json={"code": "reauth_required"}),
    ],
    ids=["forbidden", "reauth-wording-forbidden-code", "not-json", "json-list", "401", "200"],
)
@task("ex03", 1)
def test_anything_else_is_not_a_challenge(student: Student, response: httpx.Response) -> None:
    try:
        verdict = student.call("needs_step_up", response=response)
    except StudentRaised as exc:
        raise AssertionError(
            f"needs_step_up() raised {exc.describe()} for {response.status_code}"
            f" {response.text[:60]}; it should answer False"
        ) from None
    expect(
        verdict is False,
        f"needs_step_up() said {verdict!r} to {response.status_code} {response.text[:60]};"
        " only 403 with code 'reauth_required' is a challenge",
    )


# --- task 2: confirm, asking again on a wrong answer but not forever ----------------------------


@task("ex03", 2)
def test_confirm_identity_posts_the_modals_answer(
    lab: Lab, student: Student, server: ReferenceServer
) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal()
    client = client_for(student, server, alice, modal)
    client.confirm_identity(CHALLENGE)
    expect(
        len(modal.challenges) == 1, f"the dialog was asked {times(len(modal.challenges))}, not once"
    )
    expect(client.prompts == 1, f"prompts should be 1 after one confirmation, got {client.prompts}")
    me = expect_status(alice.get("/me"), 200, "GET /me after confirm_identity()")
    expect(me["reauth"]["recent"] is True, "the session is not confirmed after confirm_identity()")


@task("ex03", 2)
def test_a_wrong_answer_asks_again_within_the_same_prompt(
    lab: Lab, student: Student, server: ReferenceServer
) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal({"password": "wrong password"}, {"password": PASSWORD})
    client = client_for(student, server, alice, modal)
    client.confirm_identity(CHALLENGE)
    expect(
        len(modal.challenges) == 2, f"the dialog was asked {times(len(modal.challenges))}, not 2"
    )
    expect(client.prompts == 1, f"one dialog with two tries is one prompt; got {client.prompts}")


@task("ex03", 2)
def test_the_last_allowed_try_still_counts(
    lab: Lab, student: Student, server: ReferenceServer
) -> None:
    alice = lab.person("alice@example.com")
    wrong = {"password": "wrong password"}
    modal = Modal(wrong, wrong, {"password": PASSWORD})
    client = client_for(student, server, alice, modal, max_attempts=3)
    try:
        client.confirm_identity(CHALLENGE)
    except StudentRaised as exc:
        raise AssertionError(
            f"with max_attempts=3, two wrong answers and then the right one, confirm_identity()"
            f" gave up ({exc.describe()}) after asking {times(len(modal.challenges))}"
        ) from None
    expect(server.log.confirmations() == 3, "expected three POST /auth/confirm, one per try")
    me = expect_status(alice.get("/me"), 200, "GET /me after the third try")
    expect(me["reauth"]["recent"] is True, "the third, right answer did not confirm the session")


@task("ex03", 2)
def test_always_wrong_gives_up_with_a_clear_error(
    lab: Lab, student: Student, server: ReferenceServer
) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal({"password": "wrong password"})
    client = client_for(student, server, alice, modal, max_attempts=3)
    with pytest.raises(StudentRaised) as failure:
        client.confirm_identity({"code": "reauth_required", "methods": ["password"]})
    expect(
        "StepUpFailed" in failure.value.classes,
        f"confirm_identity() should raise StepUpFailed, not {failure.value.describe()}",
    )
    expect(len(modal.challenges) <= 3, f"asked {times(len(modal.challenges))} with max_attempts=3")
    expect(
        "Invalid credentials" in failure.value.raised.message,
        f"the error should pass on the server's message, got {failure.value.raised.message!r}",
    )


# --- task 3: retry once, and the five-minute window ----------------------------------------------


@task("ex03", 3)
def test_three_actions_within_five_minutes_prompt_once(
    lab: Lab, student: Student, server: ReferenceServer, clock: Clocks
) -> None:
    alice = lab.person("alice@example.com")
    phone = lab.client()
    lab.login(phone, "alice@example.com", PASSWORD)
    phone_id = next(s["id"] for s in alice.get("/me/sessions").json() if not s["current"])
    client = client_for(student, server, alice, Modal())

    r = client.request("POST", "/me/2fa/setup")  # +0: prompts, then retried
    expect_status(r, 200, "POST /me/2fa/setup through StepUpClient (stale session)")
    clock.tick(120)  # +2 min
    r = client.request("DELETE", f"/me/sessions/{phone_id}")
    expect_status(r, 204, "DELETE /me/sessions/{id} through StepUpClient 2 min later")
    clock.tick(179)  # +4 min 59 s
    r = client.request("POST", "/lab/echo", json={"n": 3})
    expect_status(r, 200, "a third sensitive action 4 min 59 s after confirming")
    prompts = server.log.prompts()
    expect(
        prompts == 1,
        f"three actions within 5 minutes opened the dialog {times(prompts)}; expected 1",
    )

    clock.tick(2)  # 5 min 1 s after the confirmation: the window has closed
    r = client.request("POST", "/me/2fa/setup")
    expect_status(r, 200, "POST /me/2fa/setup 5 min 1 s after confirming")
    prompts = server.log.prompts()
    expect(
        prompts == 2,
        f"after the window closed the dialog should have opened twice in all, not {times(prompts)}",
    )
    expect(
        client.prompts == 2,
        f"the client's own count says {client.prompts}; the dialog opened twice",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"email": "new@example.com", "n": 1}},
        {"content": b"raw body", "headers": {"content-type": "application/json"}},
        {"params": {"q": "1"}, "json": {"n": 2}},
        {"json": {"n": 3}, "headers": {"x-trace": "t-42"}},
    ],
    ids=["json", "content", "params", "headers"],
)
@task("ex03", 3)
def test_the_retry_carries_the_original_request(
    lab: Lab, student: Student, server: ReferenceServer, kwargs: dict[str, Any]
) -> None:
    alice = lab.person("alice@example.com")
    client = client_for(student, server, alice, Modal())
    r = client.request("PUT", "/lab/echo", **kwargs)
    expect_status(
        r, 200, f"PUT /lab/echo with {sorted(kwargs)} through StepUpClient (stale session)"
    )
    seen = echoed(server)
    expect(len(seen) == 2, f"the guarded route was reached {times(len(seen))}: once, then a retry")
    first, retry = seen
    lost = [
        part for part, a, b in zip(("method", "body", "query"), first, retry, strict=True) if a != b
    ]
    expect(
        not lost,
        f"the retry lost the request's {' and '.join(lost)}: the server received {first[:2]}"
        f" (query {first[2]!r}) first, then {retry[:2]} (query {retry[2]!r}) on the retry",
    )
    if "headers" in kwargs and "x-trace" in kwargs["headers"]:
        expect(
            "t-42" in r.text, f"the retry lost the request's headers: the route answered {r.text}"
        )


@task("ex03", 3)
def test_no_prompt_inside_the_window(lab: Lab, student: Student, server: ReferenceServer) -> None:
    alice = lab.person("alice@example.com")
    expect_status(alice.post("/auth/confirm", json={"password": PASSWORD}), 200, "confirming")
    modal = Modal()
    client = client_for(student, server, alice, modal)
    r = client.request("POST", "/lab/echo", json={"n": 1})
    expect_status(r, 200, "a sensitive action right after confirming")
    expect(
        modal.challenges == [],
        f"the dialog opened {times(len(modal.challenges))} inside an open window; expected 0",
    )
    expect(len(echoed(server)) == 1, f"the request was sent {times(len(echoed(server)))}, not once")


@task("ex03", 3)
def test_forbidden_is_returned_without_a_prompt_or_retry(
    lab: Lab, student: Student, server: ReferenceServer
) -> None:
    owner = lab.person("alice@example.com")
    org_id = lab.create_org(owner)
    bob = lab.person("bob@example.com")
    lab.add_member(owner, org_id, "bob@example.com")
    modal = Modal()
    client = client_for(student, server, bob, modal)
    r = client.request("PUT", f"/orgs/{org_id}/verified-domain", json={"domain": "acme.test"})
    expect_status(r, 403, "a member setting the org's domain through StepUpClient", "forbidden")
    expect(modal.challenges == [], "a 403 'forbidden' opened the dialog: asking cannot fix it")


@task("ex03", 3)
def test_the_retry_happens_once(lab: Lab, student: Student, server: ReferenceServer) -> None:
    alice = lab.person("alice@example.com")
    modal = Modal()
    client = client_for(student, server, alice, modal)
    r = client.request("POST", "/lab/never-recent", json={"n": 1})
    expect_status(r, 403, "a route that keeps answering 403 reauth_required", "reauth_required")
    calls = sum(s.path == "/lab/never-recent" for s in server.log.seen)
    expect(calls == 2, f"the route was called {times(calls)}: once, then one retry")
    expect(
        len(modal.challenges) == 1, f"the dialog opened {times(len(modal.challenges))}, not once"
    )
