"""Which address a request comes from, and which host it was sent to.

``TrustedProxies``: ``X-Forwarded-For`` is a header anyone can write. It is believed only
when the peer itself is a proxy listed in ``STEPUP_TRUSTED_PROXIES``; then the client is the
right-most forwarded address that is not one of those proxies (the left-most is whatever the
client claimed). Everything downstream (rate limits, the audit trail) reads ``request.client``.
``stepup serve`` runs uvicorn with ``proxy_headers=False``, so this is the only place that
decides.

``HostAllowList``: a page on another site can point its own DNS name at 127.0.0.1 (DNS
rebinding) and then read this app's answers as same-origin. Such a request still names the
attacker's host in ``Host``: only the host of ``STEPUP_ORIGIN`` is served.
"""

from ipaddress import IPv4Network, IPv6Network, ip_address
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from course_app.csrf import normalize_origin

Networks = tuple[IPv4Network | IPv6Network, ...]


def is_trusted(address: str, networks: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str | None, networks: Networks) -> str:
    """The client address of a request that reached us from ``peer``."""
    if not forwarded_for or not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


class TrustedProxies:
    """Pure ASGI: rewrites ``scope["client"]`` from ``X-Forwarded-For`` of trusted peers."""

    def __init__(self, app: ASGIApp, networks: Networks) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and self.networks:
            forwarded = Headers(scope=scope).get("x-forwarded-for")
            address = forwarded_client(client[0], forwarded, self.networks)
            if address != client[0]:
                scope = dict(scope, client=(address, 0))
        await self.app(scope, receive, send)


LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


class HostAllowList:
    """Pure ASGI: 400 for a ``Host`` that is not the public origin's host.

    When the origin is on this machine, the other loopback names of the same port pass too
    (``http://127.0.0.1:8000`` is what uvicorn prints): a DNS-rebinding page can only send its
    own host name, never a loopback address, and the pages tell such a visitor which address
    to open (the CSRF check refuses their forms)."""

    def __init__(self, app: ASGIApp, origin: str) -> None:
        self.app = app
        parts = urlsplit(origin)
        self.scheme = parts.scheme
        self.allowed = normalize_origin(origin)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        port = f":{parts.port}" if parts.port else ""
        aliases = [f"{self.scheme}://{name}{port}" for name in LOOPBACK] if local else []
        self.accepted = {self.allowed, *(normalize_origin(a) for a in aliases)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if normalize_origin(f"{self.scheme}://{host}") in self.accepted:
            await self.app(scope, receive, send)
            return
        message = f"Unknown host {host[:100]!r}: open {self.allowed}"
        response = JSONResponse({"error": message, "code": "invalid_host"}, status_code=400)
        await response(scope, receive, send)
