"""Cross-site request forgery: the session cookie must not act for another site.

Browsers attach our cookie to requests that other sites start (a hidden form, a ``fetch``
with ``credentials: "include"``). ``SameSite=Lax`` already keeps the cookie off cross-site
POSTs, but a browser without SameSite support, or a sibling origin on the same site
(``localhost:9000`` is "same-site" with ``localhost:8000``), still gets through. So every
unsafe request (POST, PUT, PATCH, DELETE) passes two checks here, before the app runs:

1. **Where it comes from.** Browsers send ``Origin`` on every unsafe request and
   ``Sec-Fetch-Site`` on every request; neither can be set by a page's script.
   - ``Origin``, when present, must be our origin exactly (``"null"`` never is).
   - ``Sec-Fetch-Site``, when present, must be ``same-origin``.
   - Neither header present: not a browser (curl, httpx, a test client). No browser can be
     made to send such a request with someone's cookie, so it is allowed. A request with
     ``Sec-Fetch-Site`` but no ``Origin`` comes from a browser that hid its origin: refused.
2. **What it carries.** The API takes JSON only. A body sent as a form
   (``application/x-www-form-urlencoded``, ``multipart/form-data``) or as ``text/plain`` —
   the three types a page can send cross-site without asking the server first — is refused
   with 415, as is any other type that is not JSON.

Refusals are JSON errors like the rest of the app: 403 ``cross_site`` (with the address the
app works at, ``expected_origin``, and a message naming it) and 415 ``unsupported_media_type``.
"""

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None for anything
    that is not an http(s) origin (``null``, a path, credentials, garbage)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    extra = parts.path or parts.query or parts.fragment or parts.username or parts.password
    if scheme not in DEFAULT_PORTS or not parts.hostname or extra:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters (charset) ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class CrossSiteGuard:
    """Pure ASGI: refuses unsafe requests from other origins and non-JSON bodies."""

    def __init__(self, app: ASGIApp, origin: str) -> None:
        self.app = app
        allowed = normalize_origin(origin)
        if allowed is None:
            raise ValueError(f"not an http(s) origin: {origin!r}")
        self.origin = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, code = refusal
        body = {"error": message, "code": code}
        if code == "cross_site":
            body["expected_origin"] = self.origin  # where the app works: say it, link it
        await JSONResponse(body, status_code=status)(scope, receive, send)

    def refusal(self, headers: Headers) -> tuple[int, str, str] | None:
        """Why this request is refused, as ``(status, message, code)``; None to let it in."""
        origin = headers.get("origin")
        fetch_site = headers.get("sec-fetch-site")
        if origin is not None and normalize_origin(origin) != self.origin:
            return 403, self.wrong_address(origin), "cross_site"
        if fetch_site is not None and fetch_site.strip().lower() != "same-origin":
            return 403, "Cross-site request refused", "cross_site"
        if origin is None and fetch_site is not None:
            return 403, "Request without an Origin refused", "cross_site"
        content_type = headers.get("content-type")
        if content_type is not None and not is_json(content_type):
            return 415, "Send the request body as application/json", "unsupported_media_type"
        return None

    def wrong_address(self, origin: str) -> str:
        """The refusal of another origin. A page of this very app opened at another address
        (``127.0.0.1`` for ``localhost``, another port) is the usual cause: name both."""
        opened_at = normalize_origin(origin)
        if opened_at is None:
            return "Cross-origin request refused"
        return (
            f"Cross-origin request refused: this page is open at {opened_at}, but the app"
            f" only accepts requests from {self.origin}. Open {self.origin} and try again."
        )
