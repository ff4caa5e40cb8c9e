"""Exercise 5 (bonus): password change with session rotation (``PUT /me/password``).

A new password is the moment to throw every other session away: whoever stole a cookie, or the
old password, must lose the account now, not whenever their cookie expires. So the change
follows the whole pattern, then rotates the session:

    who are you (CurrentUser) → prove it recently (RecentAuth) → a password that fits the rule
    → store its hash → sign out every other session → a new cookie for this one.
"""

import sqlite3

from fastapi import APIRouter, Response

from course_app.cookies import set_session_cookie
from course_app.db import transaction
from course_app.deps import DB, CurrentSession, CurrentUser, RecentAuth, SettingsDep
from course_app.errors import ApiError
from course_app.mail import send_mail
from course_app.models import Session, User
from course_app.schemas import PasswordChange
from course_app.security.passwords import PasswordRejected, hash_password
from course_app.sessions import delete_other_sessions, rotate_token

router = APIRouter(tags=["ex05"])


@router.put("/me/password")
def change_password(
    body: PasswordChange,
    user: CurrentUser,
    session: CurrentSession,
    # TODO(task 1): any signed-in session may change the password. Require a recent confirmation.
    _: RecentAuth,  # SOLUTION: a stale session gets 403 before anything else
    response: Response,
    db: DB,
    settings: SettingsDep,
) -> dict[str, str]:
    password_hash = new_password_hash(body.new_password, settings.bcrypt_rounds)
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user.id))
        token = rotate_sessions(db, user, session)
    set_session_cookie(response, token, settings)
    return {"message": "Password changed. All other sessions have been revoked."}


def new_password_hash(password: str, rounds: int) -> str:
    """The bcrypt hash of an acceptable password, or a 400 ``ApiError`` (``weak_password``)."""
    # TODO(task 2): 8 to 72 bytes in UTF-8 (course_app.security.passwords), else 400.
    # BEGIN SOLUTION
    # The rule counts UTF-8 bytes, not characters: bcrypt reads 72 bytes at most.
    try:
        return hash_password(password, rounds)
    except PasswordRejected as exc:
        raise ApiError(400, str(exc), "weak_password") from None
    # END SOLUTION
    # STUB raise NotImplementedError("task 2: check the password rule, then hash the password")


def rotate_sessions(db: sqlite3.Connection, user: User, session: Session) -> str:
    """Inside the transaction: end every other session, and return a new token for this one."""
    # TODO(task 3): sign out the user's other sessions, swap this session's token, tell the user.
    # BEGIN SOLUTION
    # A stolen cookie dies now; the stamp stays as it was, since choosing a password proves
    # nothing about who you are.
    delete_other_sessions(db, user.id, session.id)
    token = rotate_token(db, session.id)
    send_mail(
        db,
        user.email,
        "Your password was changed",
        "The password of your account was just changed and your other sessions were signed"
        " out. If this was not you, reset your password now.",
    )
    return token
    # END SOLUTION
    # STUB raise NotImplementedError("task 3: revoke the other sessions and rotate this one")
