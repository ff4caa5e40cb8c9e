"""SQLite access: one connection per request, explicit transactions, schema at start-up."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

SCHEMA = files("course_app").joinpath("schema.sql").read_text(encoding="utf-8")


class DatabaseUnavailable(RuntimeError):
    """The database file cannot be opened or written; carries a message for people."""


def connect(path: str) -> sqlite3.Connection:
    """Open a connection for one request.

    ``check_same_thread=False`` because FastAPI may run a sync dependency and the route it
    serves on different worker threads; the connection is still used by one request only.
    ``isolation_level=None`` leaves transactions to :func:`transaction`.
    """
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    # WAL + NORMAL: durable at checkpoints, no fsync per commit (the usual pairing).
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def init_db(path: str) -> None:
    """Create the file, switch it to WAL once, and create the schema.

    Fails at start with :class:`DatabaseUnavailable` when the folder cannot be made or the
    file cannot be written, instead of starting a server whose every write would fail.
    """
    try:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
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
        raise DatabaseUnavailable(f"cannot use the database at {path!r}: {exc}") from exc


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All or nothing: ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers
    queue on ``busy_timeout`` instead of failing halfway with "database is locked"."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
