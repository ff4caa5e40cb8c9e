"""Exercise 6: not every confirmation is equal.

A password typed into a look-alike page is still the password: with the session cookie the same
page relayed, it confirms like the real owner, again and again. So the step-up policy
(``course_app/policy.py``) says how strong a confirmation each action needs, and the guard you
used since exercise 1 (``RecentAuth``) already reads it:

    who are you → prove it recently, strongly enough → act

Task 1 sets one row of that policy (this file's ``POLICY``, which the app lays over its own).
Tasks 2 and 3 are the other side, a client that is not a browser: every step-up 403 carries an
RFC 9470 challenge in its ``WWW-Authenticate`` header, and the client reads it (task 2) and
works out which of the person's ways to confirm would satisfy it (task 3).
"""

from typing import Any
from urllib.request import parse_http_list

from course_app.policy import ACR_VALUES, METHOD_LEVELS, Level, Requirement

# Rows laid over the app's policy. An action without a row here keeps the app's own row.
POLICY: dict[str, Requirement] = {
    # TODO(task 1): deleting the account cannot be undone. Require the second factor for it.
    "delete_account": Requirement(Level.SECOND_FACTOR),  # SOLUTION
}

STEP_UP_ERROR = "insufficient_user_authentication"


def read_challenge(header: str) -> dict[str, Any] | None:
    """The step-up challenge in one ``WWW-Authenticate`` value, as ``{"acr_values": [...],
    "max_age": 300, "description": "..."}``; None unless it is a ``Bearer`` challenge whose
    ``error`` is ``insufficient_user_authentication``.

    Scheme and parameter names ignore case. A value is a token (``max_age=300``) or a quoted
    string, which may hold commas and backslash escapes (``"a \\"b\\", c"``). A missing
    ``max_age`` is None, missing ``acr_values`` an empty list, a missing ``error_description``
    an empty ``description``.
    """
    # TODO(task 2): split the parameters (commas inside quotes do not count), drop the quotes.
    # BEGIN SOLUTION
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    params: dict[str, str] = {}
    for item in parse_http_list(rest):  # drops the backslash of each escape
        name, _, value = item.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name.strip().lower()] = value
    if params.get("error") != STEP_UP_ERROR:
        return None
    max_age = params.get("max_age", "")
    return {
        "acr_values": params.get("acr_values", "").split(),
        "max_age": int(max_age) if max_age.isdigit() else None,
        "description": params.get("error_description", ""),
    }
    # END SOLUTION
    # STUB raise NotImplementedError("task 2: read the challenge")


def ways_to_confirm(challenge: dict[str, Any], methods: list[str]) -> list[str]:
    """Which of the person's ``methods`` (``password``, ``totp``, ``recovery_code``,
    ``passkey``; in their order) would satisfy ``challenge`` (what ``read_challenge`` gives):
    those whose level's ACR value is among its ``acr_values``. A method the policy does not
    know (another server's ``sms``) satisfies nothing: it is left out."""
    # TODO(task 3): keep the methods whose level's ACR value the challenge accepts.
    # BEGIN SOLUTION
    accepted = set(challenge.get("acr_values") or [])
    return [m for m in methods if m in METHOD_LEVELS and ACR_VALUES[METHOD_LEVELS[m]] in accepted]
    # END SOLUTION
    # STUB raise NotImplementedError("task 3: choose the ways to confirm")
