"""TOTP codes (RFC 6238) with pyotp, with a replay guard.

The caller stores the timestep of the last accepted code; a code from that step or an
earlier one is refused, so a code seen over someone's shoulder cannot be used twice.
"""

import re
from datetime import datetime

import pyotp

CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Step-Up Auth Lab")


def accept(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """Return the timestep ``code`` belongs to (one step of drift either way), or None.

    None when the code is malformed, wrong, or from a step at or before ``last_step``.
    """
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def already_used(secret: str, code: str, now: datetime, last_step: int | None) -> bool:
    """True when ``code`` is right for a step of the drift window that was already spent (at
    or before ``last_step``): a replay, which deserves its own message and is no guess."""
    if last_step is None or not CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    return any(
        pyotp.utils.strings_equal(totp.generate_otp(step), code)
        for step in (current - 1, current, current + 1)
        if step <= last_step
    )


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app would show at ``now`` (for demos and tests)."""
    return pyotp.TOTP(secret).at(now)
