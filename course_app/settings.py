"""Settings read from ``STEPUP_*`` environment variables, served through ``get_settings()``."""

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request  # what fastapi.Request is, without importing FastAPI

from course_app.csrf import normalize_origin


def parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; ValueError names the part that is not one."""
    networks = []
    for part in value.replace(" ", "").split(","):
        if part:
            try:
                networks.append(ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {part!r}") from None
    return tuple(networks)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPUP_", frozen=True)

    db_path: str = ".data/course.db"
    reauth_window_seconds: int = Field(300, ge=1)
    bcrypt_rounds: int = Field(12, ge=4, le=31)
    session_idle_seconds: int = Field(1800, ge=1)
    session_max_seconds: int = Field(86400, ge=1)
    cookie_secure: bool = False
    dev_mode: bool = False
    origin: str = "http://localhost:8000"
    login_is_recent_auth: bool = False
    max_failed_confirmations: int = Field(5, ge=1)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # A body that has not fully arrived this long after the request started is refused (408):
    # a client trickling it in holds a worker and a connection (course_app/middleware.py).
    body_timeout_seconds: float = Field(10.0, gt=0)
    # Guessing limits (course_app/ratelimit.py): failures counted over a sliding window.
    failure_window_seconds: int = Field(900, ge=1)
    login_failures_per_account: int = Field(5, ge=1)  # one account, from one client
    login_failures_per_account_total: int = Field(50, ge=1)  # one account, from all clients
    login_failures_per_client: int = Field(30, ge=1)
    code_failures_per_account: int = Field(10, ge=1)
    # Requests that send mail (password reset, sign-up), per address and per client, same window.
    mail_per_address: int = Field(3, ge=1)
    mail_per_client: int = Field(20, ge=1)
    # Peers whose X-Forwarded-For is believed: comma-separated addresses or networks
    # ("127.0.0.1, 10.0.0.0/8"). Empty: the peer address is the client, whatever it forwards.
    trusted_proxies: str = ""
    # FastAPI's API explorer (/docs, /redoc, /openapi.json): on in dev mode, or with this.
    api_docs: bool = False

    @field_validator("origin")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        """Cookies, CSRF checks and WebAuthn all compare against it: refuse a typo at start."""
        if normalize_origin(value) is None:
            raise ValueError(f"not an http(s) origin like http://localhost:8000: {value!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the start, not silently trust nobody
        return value

    @property
    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying-party id: the host of the public origin."""
        return urlsplit(self.origin).hostname or "localhost"


@lru_cache
def environment_settings() -> Settings:
    """The settings of this process's environment (``STEPUP_*``), read once."""
    return Settings()


def get_settings(request: Request) -> Settings:
    """The dependency: the settings of the app serving this request (``create_app`` keeps
    them on ``app.state``), else the environment's.

    Not a ``dependency_overrides`` entry: while any override is set, FastAPI inspects every
    dependency's signature again on every request, which made each guard cost more than the
    route it guards (docs/performance.md).
    """
    return getattr(request.app.state, "settings", None) or environment_settings()
