"""Exercise 3: the five-minute window, from the client's side.

A frontend does not check timestamps itself: it just tries. When the server answers
403 ``reauth_required``, it asks the person to confirm (the modal), posts that to
``/auth/confirm``, and sends the original request again. Inside the window the server
says yes straight away, so the person is asked once, not at every click.
"""

from collections.abc import Callable
from typing import Any

import httpx

# The modal: gets the 403 body (its "methods" say what the user can confirm with) and returns
# the fields for POST /auth/confirm, e.g. {"password": "…"} or {"code": "123456"}.
ConfirmCallback = Callable[[dict[str, Any]], dict[str, str]]


class StepUpFailed(Exception):
    """The person could not confirm their identity; the original request was not retried."""


def needs_step_up(response: httpx.Response) -> bool:
    """True only for 403 ``reauth_required``: a 403 ``forbidden`` can never be fixed by asking."""
    # TODO(task 1): look at the status *and* the machine-readable code, not the message text.
    # BEGIN SOLUTION
    if response.status_code != 403:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == "reauth_required"
    # END SOLUTION
    # STUB raise NotImplementedError("task 1: recognise a step-up challenge")


class StepUpClient:
    """Wraps an ``httpx.Client`` (signed in with a session cookie) like a frontend would."""

    def __init__(self, http: httpx.Client, confirm: ConfirmCallback, max_attempts: int = 3) -> None:
        self.http = http
        self.confirm = confirm
        self.max_attempts = max_attempts
        self.prompts = 0  # how many times the modal opened

    def confirm_identity(self, challenge: dict[str, Any]) -> None:
        """Open the modal until ``/auth/confirm`` accepts, at most ``max_attempts`` tries."""
        # TODO(task 2): count the prompt; post the callback's answer to /auth/confirm; on 401 ask
        # again, at most max_attempts times; then raise StepUpFailed with the server's message.
        # BEGIN SOLUTION
        # One modal, several tries; a wrong answer asks again, but never forever.
        self.prompts += 1
        for _ in range(self.max_attempts):
            answer = self.http.post("/auth/confirm", json=self.confirm(challenge))
            if answer.status_code == 200:
                return
            if answer.status_code != 401 or answer.json().get("code") == "session_revoked":
                break
        raise StepUpFailed(f"identity not confirmed: {answer.json().get('error', answer.text)}")
        # END SOLUTION
        # STUB raise NotImplementedError("task 2: confirm the user's identity")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; on 403 ``reauth_required`` confirm, then send it again, once."""
        # TODO(task 3): send; if it needs step-up, confirm and retry the same request once.
        # BEGIN SOLUTION
        # The retry is the same method, URL and body; a second 403 is returned as is.
        response = self.http.request(method, url, **kwargs)
        if not needs_step_up(response):
            return response
        self.confirm_identity(response.json())
        return self.http.request(method, url, **kwargs)
        # END SOLUTION
        # STUB raise NotImplementedError("task 3: send, confirm when challenged, retry once")
