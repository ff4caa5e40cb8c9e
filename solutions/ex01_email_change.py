"""Exercise 1: step-up on email change (``PUT /me/email``).

Whoever controls an account's address controls the account: password resets and security
notices go there. So changing it follows the whole pattern:

    who are you (CurrentUser) → prove it recently (RecentAuth) → act.
"""

import sqlite3

from fastapi import APIRouter

from course_app.accounts import email_taken, normalize_email, send_verification
from course_app.db import transaction
from course_app.deps import DB, CurrentUser, RecentAuth, SettingsDep
from course_app.errors import ApiError
from course_app.mail import send_mail
from course_app.models import User
from course_app.schemas import EmailChange

router = APIRouter(tags=["ex01"])


@router.put("/me/email")
def change_email(
    body: EmailChange,
    user: CurrentUser,
    # TODO(task 1): any signed-in session may change the email. Require a recent confirmation.
    _: RecentAuth,  # SOLUTION: a stale session gets 403 before anything else
    db: DB,
    settings: SettingsDep,
) -> dict[str, str]:
    with transaction(db):  # check and write under one lock: no one takes the address between
        new_email = check_new_email(db, user, body.email)
        apply_email_change(db, user, new_email, settings.origin)
    return {"message": "Email updated. Verify your new email address."}


def check_new_email(db: sqlite3.Connection, user: User, raw: str | None) -> str:
    """Return the normalised new address, or raise a 400/409 ``ApiError``."""
    # TODO(task 2): 400 "Email required" for a missing, malformed or unchanged address;
    # 409 "Email already in use" when another account has it.
    # BEGIN SOLUTION
    email = normalize_email(raw)
    if email is None or email.lower() == user.email.lower():
        raise ApiError(400, "Email required")
    if email_taken(db, email, except_user_id=user.id):
        raise ApiError(409, "Email already in use")
    return email
    # END SOLUTION
    # STUB return raw or ""


def apply_email_change(db: sqlite3.Connection, user: User, new_email: str, origin: str) -> None:
    """Write the change; runs inside one transaction, so it happens whole or not at all."""
    # TODO(task 3): the new address is unproven: reset verification, mail a link to the new
    # address and a notice to the old one.
    # BEGIN SOLUTION
    # The new inbox's owner is unproven until they click the link sent there.
    db.execute("UPDATE users SET email = ?, email_verified = 0 WHERE id = ?", (new_email, user.id))
    send_verification(db, user.id, new_email, origin)
    send_mail(
        db,
        user.email,
        "Your email address was changed",
        f"The email address of your account was changed to {new_email}. If this was not you,"
        " reset your password and contact support right away.",
    )
    # END SOLUTION
    # STUB db.execute("UPDATE users SET email = ? WHERE id = ?", (new_email, user.id))
