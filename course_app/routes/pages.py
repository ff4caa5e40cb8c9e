"""The web pages: server-rendered shells (Jinja2) whose JavaScript modules call the JSON API.

The pages decide nothing about security. Every action is an API call through one fetch
wrapper (``static/api.js``); the server's 403 ``reauth_required`` is what opens the
"Confirm your identity" dialog. No inline scripts or styles, so a strict CSP can be added.
"""

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from course_app.accounts import get_user
from course_app.csrf import normalize_origin
from course_app.deps import DB, SettingsDep
from course_app.schemas import RowId
from course_app.sessions import COOKIE, load_session

WEB = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=WEB / "templates")

router = APIRouter(include_in_schema=False)
dev_router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")


def _account_email(request: Request, db: DB, settings: SettingsDep) -> str | None:
    """Who is signed in with this request's cookie (None: nobody)."""
    token = request.cookies.get(COOKIE)
    session = load_session(db, token, settings) if token else None
    user = get_user(db, session.user_id) if session else None
    return user.email if user else None


def _origin_problem(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The page was opened at another address than the app's origin (``127.0.0.1`` for
    ``localhost``, another port): every form would be refused as cross-origin, and passkeys
    and cookies are tied to the origin too. The page says so and links the right address."""
    opened_at = normalize_origin(f"{request.url.scheme}://{request.url.netloc}")
    expected = normalize_origin(settings.origin) or settings.origin
    if opened_at is None or opened_at == expected:
        return {}
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {"opened_at": opened_at, "expected_origin": expected, "right_address": expected + here}


def _context(request: Request, settings: SettingsDep, **values: object) -> dict[str, object]:
    return (
        {"dev_mode": settings.dev_mode, "account_email": None}
        | _origin_problem(request, settings)
        | values
    )


def _page(
    request: Request,
    settings: SettingsDep,
    template: str,
    title: str,
    script: str,
    account_email: str | None = None,
) -> HTMLResponse:
    context = _context(request, settings, title=title, script=script, account_email=account_email)
    return templates.TemplateResponse(request, template, context)


def notice_page(
    request: Request, settings: SettingsDep, title: str, message: str, status: int = 200
) -> HTMLResponse:
    """A plain page with one message, for links people open from their mail."""
    context = _context(request, settings, title=title, message=message, script=None)
    return templates.TemplateResponse(request, "notice.html", context, status_code=status)


def _local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/invitations``), else None: a sign-in link
    must never send people on to another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def _to_sign_in(request: Request) -> RedirectResponse:
    """Sign in first, then come back here (the page asked for a session)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?{urlencode({'next': here})}", status_code=303)


@router.get("/")
def home(request: Request, db: DB, settings: SettingsDep) -> Response:
    target = "/account" if _account_email(request, db, settings) else "/signin"
    return RedirectResponse(target, status_code=303)


@router.get("/signin")
def signin(request: Request, db: DB, settings: SettingsDep, next: str | None = None) -> Response:
    if _account_email(request, db, settings):
        return RedirectResponse(_local_path(next) or "/account", status_code=303)
    return _page(request, settings, "signin.html", "Sign in", "signin.js")


@router.get("/signup")
def signup(request: Request, settings: SettingsDep) -> Response:
    return _page(request, settings, "signup.html", "Create your account", "signup.js")


@router.get("/forgot-password")
def forgot_password(request: Request, settings: SettingsDep) -> Response:
    return _page(request, settings, "forgot.html", "Reset your password", "reset.js")


@router.get("/reset-password")
def reset_password(request: Request, settings: SettingsDep) -> Response:
    """Where the mailed reset link lands; the token stays in the URL for the script to post."""
    return _page(request, settings, "reset.html", "Choose a new password", "reset.js")


@router.get("/account")
def account(request: Request, db: DB, settings: SettingsDep) -> Response:
    email = _account_email(request, db, settings)
    if email is None:
        return RedirectResponse("/signin", status_code=303)
    return _page(request, settings, "account.html", "Your account", "account.js", email)


@router.get("/organizations/{org_id}/members")
def members(request: Request, org_id: RowId, db: DB, settings: SettingsDep) -> Response:
    """An org's members page; the API answers whether you may see it (404 for outsiders)."""
    email = _account_email(request, db, settings)
    if email is None:
        return _to_sign_in(request)
    return _page(request, settings, "members.html", "Members", "members.js", email)


@router.get("/invitations")
def invitations(request: Request, db: DB, settings: SettingsDep) -> Response:
    """Where the invitation mail's link lands: the invitations to the signed-in address."""
    email = _account_email(request, db, settings)
    if email is None:
        return _to_sign_in(request)
    return _page(request, settings, "invitations.html", "Invitations", "invitations.js", email)


@dev_router.get("/dev/mailbox")
def mailbox(request: Request, settings: SettingsDep) -> Response:
    """Dev mode only: every message the app sent, with links a person can click."""
    return _page(request, settings, "mailbox.html", "Dev mailbox", "mailbox.js")
