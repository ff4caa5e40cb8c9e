"""Cookie attributes in one place: HttpOnly (scripts cannot read it), SameSite=Lax (other
sites' forms do not carry it on POST), Secure when served over https."""

from fastapi import Response

from course_app.sessions import COOKIE, PENDING_COOKIE, PENDING_TTL
from course_app.settings import Settings


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.session_max_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def set_pending_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        PENDING_COOKIE,
        token,
        max_age=int(PENDING_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/auth",
    )


def clear_cookies(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(PENDING_COOKIE, path="/auth")
