"""Assertions for graded tests whose failures read like prose for a student:
what was sent, what came back, what was expected."""

from typing import Any

import httpx

from course_app.grading.driver import CRASH_HEADER

MAX_SHOWN = 160


def shown(response: httpx.Response) -> str:
    """The body as one short line (or "(no body)"), and where the student's code crashed."""
    text = response.text.strip().replace("\n", " ")
    text = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    crash = response.headers.get(CRASH_HEADER)
    if crash:
        return f"{text} — your code raised {crash}"
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
        raise AssertionError(
            f"{doing} answered {response.status_code} {shown(response)}; expected {wanted}"
        )
    return body if isinstance(body, dict) else {"items": body}


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


def times(count: int) -> str:
    """``never``, ``once``, ``twice``, ``3 times``: counts in sentences for people."""
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count} times")
