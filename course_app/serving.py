"""Serving the app with uvicorn, with the two limits uvicorn leaves out.

- **A cap on open connections.** uvicorn accepts every connection it is offered; each one
  holds a file descriptor until the client finishes its request. Past the process's
  descriptor limit ``accept()`` fails, and asyncio logs a traceback each time it retries. A
  connection over the cap gets a one-line 503 (JSON, ``Retry-After: 1``) and is closed at
  once, so the descriptors never run out.
- **A deadline for the request's headers**, counted from the moment the connection opens
  (or its previous answer ends). uvicorn waits for headers forever, and a client sending one
  byte at a time keeps its keep-alive timer from firing: 1,100 such clients took a server
  down. Past the deadline the connection is closed.

A deadline for the *body* is the app's own (``course_app/middleware.py``, 408 JSON), so it
holds under any server. Behind a proxy, see docs/reference-app.md ("Deploying").
"""

import asyncio
import logging
import resource
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("course_app.serving")

HEADER_TIMEOUT = 10.0
BUSY_BODY = b'{"error":"The server is at its connection limit; try again","code":"busy"}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\ncontent-length: "
    + str(len(BUSY_BODY)).encode()
    + b"\r\n\r\n"
    + BUSY_BODY
)
BUSY_LOG_EVERY = 10.0  # seconds: one line about refused connections, not one per connection
# Seconds a refused connection stays open after its 503, reading and dropping what the client
# sends: closing with unread input makes the kernel reset the connection, and the client may
# never see the answer. At most LINGER_BUDGET linger at a time: in a flood the others are
# closed at once (their 503 may be lost), or the lingering would spend the descriptors the
# cap is there to keep.
BUSY_LINGER = 1.0
LINGER_BUDGET = 64
# asyncio accepts up to ``backlog`` connections in one go before any of them is looked at, so
# a flood opens that many descriptors past the cap: keep it well under the spare half.
BACKLOG = 128


def raise_descriptor_limit() -> int:
    """Lift the soft limit on open files to the hard one (as servers commonly do) and return
    it: the default soft limit (1,024) is what a crowd of slow clients exhausted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # not allowed here: keep the soft limit
    return soft


def default_max_connections(descriptors: int) -> int:
    """Half the descriptors: each request also opens the database (three files in WAL mode)
    on one of the worker threads, and the logs and the listening socket need theirs."""
    return max(16, min(4096, descriptors // 2))


class ServeConfig(uvicorn.Config):
    """``uvicorn.Config`` plus the connection cap and the header deadline."""

    def __init__(
        self, app: Any, *, max_connections: int, header_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(app, http=GuardedH11Protocol, **kwargs)
        self.max_connections = max_connections
        self.header_timeout = header_timeout


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the cap and the header deadline of ``ServeConfig``."""

    refused = 0
    lingering = 0
    last_busy_log = float("-inf")

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_connections: int = getattr(config, "max_connections", 1024)
        self.header_timeout: float = getattr(config, "header_timeout", HEADER_TIMEOUT)
        self.header_deadline: asyncio.TimerHandle | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.busy = True
            transport.write(BUSY)
            self._note_refusal()
            if GuardedH11Protocol.lingering >= LINGER_BUDGET or not transport.can_write_eof():
                transport.close()
                return
            transport.write_eof()
            GuardedH11Protocol.lingering += 1
            self.loop.call_later(BUSY_LINGER, self._end_linger)
            return
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self.busy:
            return  # answered with the 503: the request is not read
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_waiting()  # the headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()  # the next request's

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _end_linger(self) -> None:
        GuardedH11Protocol.lingering -= 1
        self.transport.close()

    def _await_headers(self) -> None:
        self._stop_waiting()
        self.header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_waiting(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_late(self) -> None:
        self.header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # like nginx's client_header_timeout: no answer, closed

    def _note_refusal(self) -> None:
        cls = GuardedH11Protocol
        cls.refused += 1
        now = self.loop.time()
        if now - cls.last_busy_log >= BUSY_LOG_EVERY:
            log.warning(
                "at the cap of %d open connections: %d refused so far",
                self.max_connections,
                cls.refused,
            )
            cls.last_busy_log = now


class OutOfDescriptors(logging.Filter):
    """asyncio logs a traceback each time ``accept()`` fails for want of file descriptors,
    and retries every 100 ms: megabytes of log in a flood. One line every ten seconds says
    the same. (The cap keeps this rare: it counts connections, not the database's files.)"""

    def __init__(self) -> None:
        super().__init__()
        self.last = float("-inf")
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("socket.accept() out of system resource"):
            return True
        now = record.created
        if now - self.last < BUSY_LOG_EVERY:
            self.dropped += 1
            return False
        record.msg = f"out of file descriptors: accept() failed ({self.dropped} times since)"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        self.last, self.dropped = now, 0
        return True


def server_config(
    app: Any,
    host: str,
    port: int,
    max_connections: int | None = None,
    header_timeout: float = HEADER_TIMEOUT,
) -> ServeConfig:
    """The uvicorn configuration ``stepup serve`` runs: ``max_connections`` defaults to half
    the (raised) descriptor limit. ``proxy_headers=False``: uvicorn would believe
    X-Forwarded-For from loopback; the app decides itself, from STEPUP_TRUSTED_PROXIES
    (``course_app/proxies.py``)."""
    cap = max_connections or default_max_connections(raise_descriptor_limit())
    logging.getLogger("asyncio").addFilter(OutOfDescriptors())
    return ServeConfig(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        backlog=BACKLOG,
        max_connections=cap,
        header_timeout=header_timeout,
    )
