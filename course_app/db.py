"""SQLite access: one connection per request, explicit transactions, schema at start-up.

A request's connection also carries two lists that :func:`transaction` honours:

- ``watches``: what the request's guards read (its session, its user, its membership). When
  a transaction takes the write lock, each watch checks that what its guard saw still holds,
  so a guard's answer is true *inside* the transaction that acts on it: a member removed a
  moment ago, or a cookie another request just rotated, can no longer commit anything.
- at the end of the transaction, each watch re-reads its row (the request's own change is
  the new baseline) and may write rows of its own in the same transaction: the audit entry
  of a route that cannot write it itself (``course_app/audit.py``).
"""

import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

SCHEMA = files("course_app").joinpath("schema.sql").read_text(encoding="utf-8")
SIDECARS = ("-wal", "-shm")

log = logging.getLogger("course_app.db")


class DatabaseUnavailable(RuntimeError):
    """The database file cannot be opened or written; carries a message for people."""


class Watch(Protocol):
    """Something a request relies on, checked again under the write lock."""

    def holds(self, conn: sqlite3.Connection) -> None:
        """At the start of a transaction: raise (an ``ApiError``) when it no longer holds."""

    def settle(self, conn: sqlite3.Connection, changed: int) -> None:
        """Before the commit, inside the transaction: re-read (and write what goes with a
        change of ``changed`` rows)."""


class Connection(sqlite3.Connection):
    """A ``sqlite3.Connection`` with the request's :class:`Watch` list, and the user whose
    session the request came with (set by the ``get_session`` guard)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watches: list[Watch] = []
        self.user_id: int | None = None


class RowWatch:
    """What a guard read from one row (``sql`` selects it), which must still be there and the
    same when the request writes: ``gone()`` or ``changed()`` is raised otherwise."""

    def __init__(
        self,
        sql: str,
        params: tuple[object, ...],
        seen: tuple[object, ...],
        gone: Callable[[], Exception],
        changed: Callable[[], Exception],
    ) -> None:
        self.sql, self.params = sql, params
        self.seen: tuple[object, ...] | None = seen  # None: the request removed it itself
        self.gone, self.changed = gone, changed

    def _now(self, conn: sqlite3.Connection) -> tuple[object, ...] | None:
        row = conn.execute(self.sql, self.params).fetchone()
        return tuple(row) if row else None

    def holds(self, conn: sqlite3.Connection) -> None:
        now = self._now(conn)
        if now != self.seen:
            raise self.gone() if now is None else self.changed()

    def settle(self, conn: sqlite3.Connection, changed: int) -> None:
        self.seen = self._now(conn)


def add_watch(conn: sqlite3.Connection, watch: Watch) -> None:
    """Watch ``watch`` in this request's transactions (a plain connection watches nothing)."""
    if isinstance(conn, Connection):
        conn.watches.append(watch)


def connect(path: str) -> Connection:
    """Open a connection for one request.

    ``check_same_thread=False`` because FastAPI may run a sync dependency and the route it
    serves on different worker threads; the connection is still used by one request only.
    ``isolation_level=None`` leaves transactions to :func:`transaction`.
    """
    conn = sqlite3.connect(
        path, check_same_thread=False, isolation_level=None, timeout=10, factory=Connection
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    # WAL + NORMAL: durable at checkpoints, no fsync per commit (the usual pairing).
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def init_db(path: str) -> None:
    """Create the file, switch it to WAL once, and create the schema.

    Fails at start with :class:`DatabaseUnavailable` when the folder cannot be made or the
    file cannot be written, instead of starting a server whose every write would fail; the
    message names the file at fault (the database, or its ``-wal``/``-shm`` companion).
    """
    try:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            repair_sidecars(path)
        conn = connect(path)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            # One transaction: one sync to disk instead of one per statement.
            conn.executescript(f"BEGIN;\n{SCHEMA}\nCOMMIT;")
            # A read-only file opens and reads fine, and an existing schema needs no write:
            # write something for real (and roll it back) to find out.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE write_probe (x)")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        culprit = blocking_sidecar(path) if path != ":memory:" else None
        where = f" (the file at fault is {culprit})" if culprit else ""
        raise DatabaseUnavailable(f"cannot use the database at {path!r}: {exc}{where}") from exc


def blocking_sidecar(path: str) -> str | None:
    """A ``-wal`` or ``-shm`` file this process cannot write next to a database it can: every
    write fails with "readonly database" although the database file itself is fine."""
    if not os.access(path, os.W_OK):
        return None
    for suffix in SIDECARS:
        sidecar = path + suffix
        if os.path.exists(sidecar) and not os.access(sidecar, os.W_OK):
            mode = stat.S_IMODE(os.stat(sidecar).st_mode)
            return (
                f"{sidecar!r}, mode {mode:04o}: make it writable, or remove it while no server runs"
            )
    return None


def repair_sidecars(path: str) -> bool:
    """Give read-only ``-wal``/``-shm`` files the database file's mode again; True when one
    was repaired.

    While the database file is read-only, SQLite creates its ``-shm`` with the file's mode
    (0444), and that file outlives the episode: once the database is writable again, every
    connection still maps the shared memory read-only and every write fails. Whoever may
    write the database may write these too, so they get its mode back (we own them: this
    process's SQLite made them). What cannot be repaired is logged with the file's name.
    """
    if not os.access(path, os.W_OK):
        return False  # still read-only: nothing to repair yet
    repaired = False
    for suffix in SIDECARS:
        sidecar = path + suffix
        if os.path.exists(sidecar) and not os.access(sidecar, os.W_OK):
            try:
                os.chmod(sidecar, stat.S_IMODE(os.stat(path).st_mode))
            except OSError as exc:
                log.error("%s is read-only and cannot be repaired: %s", sidecar, exc)
                continue
            log.warning("%s was read-only (left by a read-only episode): repaired", sidecar)
            repaired = True
    return repaired


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All or nothing: ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers
    queue on ``busy_timeout`` instead of failing halfway with "database is locked".

    Under that lock the request's watches check that what its guards read still holds, and
    before the commit they settle (see the module's docstring)."""
    watches: list[Watch] = getattr(conn, "watches", [])
    conn.execute("BEGIN IMMEDIATE")
    try:
        for watch in watches:
            watch.holds(conn)
        before = conn.total_changes
        yield conn
        changed = conn.total_changes - before
        for watch in list(watches):
            watch.settle(conn, changed)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
