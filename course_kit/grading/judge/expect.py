"""Assertions for graded tests whose failures read like prose for a student:
what was sent, what came back, what was expected."""

from typing import Any

import httpx

from course_kit.grading.sandbox.protocol import CRASH_HEADER, Raised

MAX_SHOWN = 160


class RouteCrashed(AssertionError):
    """A check failed because the student's route raised (the app answered 500): the
    exception is a field, so reports can tell "your code crashed" from "your answer is wrong"."""

    def __init__(self, message: str, raised: Raised) -> None:
        super().__init__(message)
        self.raised = raised


NOT_YET = "Not implemented yet: "  # how the app words a stub's NotImplementedError (501)


def crash_of(response: httpx.Response) -> Raised | None:
    """Where the student's code raised, when the submission's app answered 500 for it, or the
    stub's ``NotImplementedError`` the app answers 501 for."""
    header = response.headers.get(CRASH_HEADER)
    if response.status_code == 500 and header:
        return Raised.from_header(header)
    body = _json(response) if response.status_code == 501 else None
    if isinstance(body, dict) and body.get("code") == "not_implemented":
        text = str(body.get("error", "")).removeprefix(NOT_YET)
        return Raised("NotImplementedError", ("NotImplementedError", "RuntimeError"), "", text)
    return None


def shown(response: httpx.Response) -> str:
    """The body as one short line (or "(no body)"), and where the student's code crashed."""
    text = response.text.strip().replace("\n", " ")
    text = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    crash = crash_of(response)
    if crash and crash.type != "NotImplementedError":  # a stub's 501 says so in its body
        return f"{text} — your code raised {crash.describe()}"
    return text or "(no body)"


def expect_status(
    response: httpx.Response, status: int, doing: str, code: str | None = None
) -> dict[str, Any]:
    """Check status (and the body's ``code``); return the JSON body.

    ``doing`` describes the request: "PUT /me/email from a session confirmed 6 minutes ago".
    """
    body = _json(response)
    got_code = body.get("code") if isinstance(body, dict) else None
    if response.status_code != status or (code is not None and got_code != code):
        wanted = f"{status} with code {code!r}" if code else str(status)
        message = f"{doing} answered {response.status_code} {shown(response)}; expected {wanted}"
        crash = crash_of(response)
        raise RouteCrashed(message, crash) if crash else AssertionError(message)
    return body if isinstance(body, dict) else {"items": body}


def expect_let_through(response: httpx.Response, doing: str) -> None:
    """The route's guards let the request through: any answer but 401 and 403. A task not
    done yet answers 501, and that is fine here: a test of a guard must not need the code of
    a later task (``docs/authoring.md``, "Keep tasks independent")."""
    if response.status_code in (401, 403):
        raise AssertionError(
            f"{doing} answered {response.status_code} {shown(response)}; expected the guards to"
            " let it through (any answer but 401 or 403)"
        )


def expect_error(response: httpx.Response, status: int, message: str, doing: str) -> None:
    body = expect_status(response, status, doing)
    if body.get("error") != message:
        raise AssertionError(
            f"{doing} answered {status} as expected, but with error {body.get('error')!r};"
            f" expected {message!r}"
        )


def expect(condition: bool, message: str) -> None:
    """A plain check with a sentence for the student when it does not hold."""
    if not condition:
        raise AssertionError(message)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
