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
    raise NotImplementedError("task 1: recognise a step-up challenge")


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
        raise NotImplementedError("task 2: confirm the user's identity")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; on 403 ``reauth_required`` confirm, then send it again, once."""
        # TODO(task 3): send; if it needs step-up, confirm and retry the same request once.
        raise NotImplementedError("task 3: send, confirm when challenged, retry once")
