"""The sandbox policy of a graded test process: a PEP 578 audit hook, installed by the reporter
plugin before any student code is imported (an audit hook cannot be removed afterwards).

It refuses what no exercise needs and a cheat would: writing, renaming or deleting outside the
run's temporary folder (so test files and the grader's output stay ours), reading the reference
solutions, starting processes or signalling others, loading native code with ``ctypes``, rooting
through the garbage collector, and adding audit hooks. It cannot stop student code from
monkeypatching pytest in memory (assigning a class attribute raises no audit event): an
in-process hook is a fence, not a wall. The canary tests, the signed result records and the
reconciliation in the grader are what make such tampering evident.
"""

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import PosixPath, PurePosixPath
from typing import Any

PATH_TYPES = (PosixPath, PurePosixPath)
NO_EXCEPTIONS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.spawn",
        "os.posix_spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "os.symlink",
        "os.link",
        "os.mkfifo",
        "os.mknod",
        "os.chroot",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys.addaudithook",
    }
)
# event → positions of the path arguments that must lie inside the writable folder
WRITES = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
    "sqlite3.connect": (0,),
}
READS = {"os.listdir": 0, "os.scandir": 0}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Refused(PermissionError):
    """What student code gets for an operation the grading sandbox does not allow."""


def _as_path(value: Any) -> str | None:
    """An absolute path for ``value``, or None when it is not a plain path. Only built-in
    types count: a home-made ``os.PathLike`` (or a ``str`` subclass with a new ``__add__``)
    could show this hook one path and the real call another. No student code runs here."""
    if isinstance(value, int):
        return ""  # an open file descriptor: nothing new is reached
    if isinstance(value, str):
        text = str.__str__(value)
    elif isinstance(value, bytes):
        text = bytes.decode(value, "utf-8", "surrogateescape")
    elif type(value) in PATH_TYPES:
        text = str(value)
    else:
        return None
    if text in (":memory:", ""):
        return ""
    return os.path.normpath(os.path.join(os.getcwd(), text))


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root[:-1] or path.startswith(root) for root in roots)


def make_hook(writable: Iterable[str], unreadable: Iterable[str]) -> Callable[[str, tuple], None]:
    write_roots = tuple(os.path.normpath(p) + os.sep for p in writable)
    read_denied = tuple(os.path.normpath(p) + os.sep for p in unreadable)

    def check_write(event: str, value: Any) -> None:
        path = _as_path(value)
        if path is None or (path and path != os.devnull and not _inside(path, write_roots)):
            raise Refused(f"grading sandbox: {event} outside the test's temporary folder")

    def check_read(event: str, value: Any) -> None:
        path = _as_path(value)
        if path is None or (path and _inside(path, read_denied)):
            raise Refused(f"grading sandbox: {event} of a protected file")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            check_read(event, path)
            if (mode is not None and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & WRITE_FLAGS
            ):
                check_write(event, path)
        elif event in WRITES:
            for position in WRITES[event]:
                check_write(event, args[position])
        elif event in READS:
            check_read(event, args[READS[event]])
        elif event in NO_EXCEPTIONS:
            if event == "sys.addaudithook":
                raise RuntimeError("grading sandbox: no more audit hooks")
            raise Refused(f"grading sandbox: {event} is not allowed while grading")

    return hook


def install(writable: Iterable[str], unreadable: Iterable[str]) -> None:
    # Libraries import ctypes lazily (dateutil, via freezegun): load it while that is allowed,
    # so what stays refused is a new native library, not the module.
    import ctypes  # noqa: F401

    sys.addaudithook(make_hook(writable, unreadable))
