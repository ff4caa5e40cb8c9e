"""Security headers on every answer: pages, JSON and static files alike.

- ``Content-Security-Policy``: scripts, styles, images and API calls from our own origin
  only, no inline script or style, no plugins, no ``<base>`` tricks, forms post only to us,
  and no framing (``frame-ancestors 'none'``). The pages are built for it: every script is a
  file under ``/static``.
- ``X-Frame-Options: DENY``: the same frame ban for browsers that ignore CSP level 2.
- ``X-Content-Type-Options: nosniff``: a JSON answer is never run as a script or page.
- ``Referrer-Policy: no-referrer``: links mailed to people carry tokens
  (``/reset-password?token=…``); the page they open must not hand its URL on.
- ``Cross-Origin-Opener-Policy: same-origin``: a page we open cannot script us back.
- ``Cache-Control: no-store`` on everything but ``/static``: answers carry secrets shown
  once (recovery codes, API keys, TOTP secrets) that must not stay in a cache.

FastAPI's own API explorer (``/docs``, ``/redoc``) loads Swagger UI / ReDoc from a CDN with
an inline start-up script; those two pages get a looser policy of their own (see
``docs/security.md``). A header the route already set is left as it is.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
CDN = "https://cdn.jsdelivr.net"
API_EXPLORER_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {CDN}",
        f"style-src 'self' 'unsafe-inline' {CDN}",
        f"img-src 'self' data: https://fastapi.tiangolo.com {CDN}",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
API_EXPLORER_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def headers_for(path: str) -> dict[str, str]:
    """The security headers an answer to ``path`` gets."""
    policy = API_EXPLORER_POLICY if path in API_EXPLORER_PATHS else PAGE_POLICY
    extra = {"content-security-policy": policy}
    if not path.startswith("/static/"):
        extra["cache-control"] = "no-store"
    return COMMON | extra


class SecurityHeaders:
    """Pure ASGI: adds :func:`headers_for` to the start of every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
