"""The step-up policy: how strong and how recent a confirmation each sensitive action needs.

Data, not code scattered over routes. The guard (``course_app/deps.py``) finds a route's action
by the route's name and looks it up here; an action that depends on the request's body
(granting owner) or on the account's state (removing the last passkey) is named by the route
itself. An action the table does not name needs what every action needed before levels
existed: any factor, within ``STEPUP_REAUTH_WINDOW_SECONDS``.

Three levels, each satisfied by the methods of its level and of every level above it:

    any factor          the password (or anything stronger)
    second factor       an authenticator code, a recovery code, or a passkey
    phishing-resistant  a passkey: bound to this site's origin, unlocked on the device

A required level never exceeds what the account has enrolled: "the second factor *when the
account has one*". An account with a password alone confirms everything with the password.

No FastAPI here: the rules are plain functions the guard, the docs' tests and the exercises
can read.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    ANY_FACTOR = 1
    SECOND_FACTOR = 2
    PHISHING_RESISTANT = 3

    @property
    def label(self) -> str:
        """How the 403 body names it: ``second_factor``."""
        return self.name.lower()


# What one confirmation proves. A recovery code stands in for the authenticator it backs up;
# a passkey is something you hold *and* unlock (user verification), so it is a second factor
# too, and the only one a look-alike site cannot replay.
METHOD_LEVELS: dict[str, Level] = {
    "password": Level.ANY_FACTOR,
    "totp": Level.SECOND_FACTOR,
    "recovery_code": Level.SECOND_FACTOR,
    "passkey": Level.PHISHING_RESISTANT,
}

# RFC 9470's acr_values, one per level. OpenID's EAP profile names phishing-resistant
# authentication "phr"; the other two have no registered name, so they get collision-free
# names of our own. These describe one confirmation, not a whole sign-in: they are not NIST
# AALs (docs/reference-app.md).
ACR_VALUES: dict[Level, str] = {
    Level.ANY_FACTOR: "urn:stepup-lab:acr:any-factor",
    Level.SECOND_FACTOR: "urn:stepup-lab:acr:second-factor",
    Level.PHISHING_RESISTANT: "phr",
}


@dataclass(frozen=True)
class Requirement:
    """What an action needs: a level, and a maximum age in seconds (None: the window)."""

    level: Level = Level.ANY_FACTOR
    max_age: int | None = None


# Every action the guard knows, by the name of its route (or the name a route asks for), and
# what it is in words: the start of the challenge's error_description (plain ASCII, no quotes:
# RFC 6750 allows nothing else there).
ACTIONS: dict[str, str] = {
    "change_email": "Changing the email address",
    "change_password": "Changing the password",
    "remove_password": "Removing the password",
    "revoke_session": "Signing out a session",
    "delete_account": "Deleting the account",
    "setup_two_factor": "Setting up two-factor authentication",
    "disable_two_factor": "Turning off two-factor authentication",
    "add_passkey": "Adding a passkey",
    "remove_passkey": "Removing a passkey",
    "remove_last_passkey": "Removing the last passkey",
    "create_api_key": "Creating an API key",
    "revoke_api_key": "Revoking an API key",
    "invite_member": "Inviting a member",
    "revoke_invitation": "Revoking an invitation",
    "change_role": "Changing a member's role",
    "grant_owner": "Making someone an owner",
    "remove_member": "Removing a member",
    "set_verified_domain": "Changing the verified domain",
}

ANY = Requirement()
SECOND = Requirement(Level.SECOND_FACTOR)

# The defaults; docs/reference-app.md says why each. Exercise 6 sets delete_account's row
# (solutions/ex06_assurance_levels.py: the second factor), which create_app lays over this one.
POLICY: dict[str, Requirement] = {
    "change_email": ANY,
    "change_password": ANY,
    "remove_password": ANY,
    "revoke_session": ANY,
    "delete_account": ANY,
    "create_api_key": ANY,
    "revoke_api_key": ANY,
    "invite_member": ANY,
    "revoke_invitation": ANY,
    "change_role": ANY,
    "remove_member": ANY,
    "set_verified_domain": ANY,
    "remove_passkey": ANY,
    # A new factor is added with the strongest factor the account already has: otherwise a
    # phished password would enrol the attacker's own passkey, and then pass every row below.
    "add_passkey": SECOND,
    "setup_two_factor": SECOND,
    # What lowers the account's level, or hands the org over, needs that level.
    "disable_two_factor": SECOND,
    "remove_last_passkey": SECOND,
    "grant_owner": SECOND,
}


class BadPolicyRow(ValueError):
    """A policy row the guard could not honour, or one that would weaken its action."""


def merged(
    base: Mapping[str, Requirement], rows: Mapping[str, Requirement]
) -> dict[str, Requirement]:
    """``base`` with ``rows`` laid over it (an exercise's). Each row must name a known action
    and hold a :class:`Requirement` with a :class:`Level` and ``max_age`` None or whole
    seconds >= 1; and it may only make its action stricter: a level below ``base``'s for the
    same action is refused (a lesson's file must not undo what the app defends). A ``max_age``
    can only shorten the window: the guard takes the shorter of the two."""
    for action, requirement in rows.items():
        if action not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            raise BadPolicyRow(f"no action is called {action!r} (the actions: {known})")
        if not isinstance(requirement, Requirement):
            raise BadPolicyRow(f"the row for {action!r} is not a Requirement: {requirement!r}")
        if not isinstance(requirement.level, Level):
            raise BadPolicyRow(
                f"the row for {action!r}: level {requirement.level!r} is not a Level"
            )
        age = requirement.max_age
        if age is not None and (type(age) is not int or age < 1):
            raise BadPolicyRow(
                f"the row for {action!r}: max_age {age!r} is not whole seconds >= 1 (or None)"
            )
        floor = base.get(action, ANY).level
        if requirement.level < floor:
            raise BadPolicyRow(
                f"the row for {action!r} asks {requirement.level.label}, less than the app's"
                f" {floor.label}: a row may only make an action stricter"
            )
    return {**base, **rows}


def level_of(method: str | None) -> Level:
    """What a confirmation with ``method`` proves. A stamp of a method we do not know (none
    is written) proves the least."""
    return METHOD_LEVELS.get(method or "", Level.ANY_FACTOR)


def required_level(wanted: Level, methods: Iterable[str]) -> Level:
    """``wanted``, lowered to the strongest level the account's ``methods`` reach."""
    reachable = max((level_of(m) for m in methods), default=Level.ANY_FACTOR)
    return min(wanted, reachable)


def satisfying(level: Level, methods: Iterable[str]) -> list[str]:
    """The ``methods`` (in their order) that reach ``level``."""
    return [m for m in methods if level_of(m) >= level]


def acr_values(level: Level) -> list[str]:
    """Every ACR value that would do, the one asked for first (RFC 9470: in order of
    preference, any of them acceptable)."""
    return [ACR_VALUES[at] for at in Level if at >= level]


NEEDS = {
    Level.ANY_FACTOR: "a confirmation",
    Level.SECOND_FACTOR: "a second factor (an authenticator code, a recovery code or a passkey)",
    Level.PHISHING_RESISTANT: "a passkey",
}


def challenge(action: str, level: Level, max_age: int) -> str:
    """The ``WWW-Authenticate`` value of a step-up refusal (RFC 9470 on RFC 6750's Bearer
    scheme): what is missing, which ACR values would do, and how recent the confirmation
    must be. Every value is quoted; none holds a quote or a backslash."""
    what = ACTIONS.get(action, "This action")
    params = {
        "error": "insufficient_user_authentication",
        "error_description": f"{what} needs {NEEDS[level]} from the last {max_age} seconds",
        "acr_values": " ".join(acr_values(level)),
        "max_age": str(max_age),
    }
    return "Bearer " + ", ".join(f'{name}="{value}"' for name, value in params.items())
