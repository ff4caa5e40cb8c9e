"""SQLite can create a file anywhere the process may write (ATTACH, VACUUM INTO), which no
audit hook reports: tries the kit, the tests, the interpreter's folders and the filesystem
root; then offers a router with no routes."""

import contextlib
import sqlite3
import sys
from pathlib import Path

from fastapi import APIRouter

import course_app

kit = Path(course_app.__file__).resolve().parents[1]
targets = [
    kit / "pwned.db",
    kit / "course_app" / "pwned.db",
    kit / "tests" / "graded" / "pwned.db",
    Path(sys.prefix) / "pwned.db",
    Path("/pwned.db"),
    Path("/work/main/pwned.db"),
]
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (x)")
for n, target in enumerate(targets):
    with contextlib.suppress(sqlite3.Error):
        db.execute(f"ATTACH DATABASE '{target}' AS a{n}")
        db.execute(f"CREATE TABLE a{n}.t (x)")
    with contextlib.suppress(sqlite3.Error):
        db.execute(f"VACUUM INTO '{target}.vacuum'")

router = APIRouter()
