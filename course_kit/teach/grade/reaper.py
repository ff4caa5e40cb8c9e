"""Ending whatever a dead batch worker left running.

A worker grades one submission; its judges run in sessions of their own (so that the engine
can kill each judge with everything it started), and they would outlive a worker killed
abruptly (``SIGKILL``, as the kernel's out-of-memory killer does), grading on for minutes
into folders nobody reads. While a batch runs, its process is a *child subreaper* (Linux's
``PR_SET_CHILD_SUBREAPER``): a process whose parent dies is handed to it rather than to
init, so the batch finds every orphan among its own children and ends it, with whatever that
orphan started. Elsewhere (not Linux) the worker's own process group is all that is ended.
"""

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Collection, Iterator
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
SWEEPS = 50  # orphans handed over while we kill their parents: look again, a bounded number


def _set_subreaper(on: bool) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)
    except (OSError, AttributeError):  # no prctl: not Linux
        return False


def parents() -> dict[int, int]:
    """Every process's parent (pid → ppid), read from ``/proc``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                # The command name may hold spaces and parentheses: the fields follow the last ")".
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                found[int(entry.name)] = int(fields[1])
    return found


def descendants(root: int, tree: dict[int, int]) -> list[int]:
    """``root``'s children, their children, and so on."""
    found, frontier = [], [root]
    while frontier:
        frontier = [pid for pid, parent in tree.items() if parent in frontier]
        found += frontier
    return found


class Reaper:
    """Ends what dead workers left running: their process groups, and the orphans handed
    over to this process while it adopts them (:func:`adopting_orphans`). Children this
    process had before (``spared``) are not its business."""

    def __init__(self, spared: Collection[int] = ()) -> None:
        self.spared = frozenset(spared)

    def end_group(self, leader: int) -> None:
        """Kill the process group a worker led (it was started in a session of its own)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGKILL)

    def sweep(self, keep: Collection[int]) -> list[int]:
        """Kill every child of this process but ``keep`` (the live workers) and the spared,
        with all they started, and reap them; returns the pids ended. Only orphans of dead
        workers are children of ours besides those."""
        me, ended = os.getpid(), []
        for _ in range(SWEEPS):
            tree = parents()
            orphans = [
                pid
                for pid, parent in tree.items()
                if parent == me and pid not in keep and pid not in self.spared
            ]
            if not orphans:
                break
            for orphan in orphans:
                doomed = [orphan, *descendants(orphan, tree)]
                for pid in doomed:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(orphan, 0)
                ended += doomed
            time.sleep(0.01)  # their own orphans are handed over to us now: look again
        return ended


@contextlib.contextmanager
def adopting_orphans() -> Iterator[Reaper]:
    """While inside, this process adopts orphans; on the way out, every one left is ended."""
    me = os.getpid()
    reaper = Reaper(spared=[pid for pid, parent in parents().items() if parent == me])
    adopting = _set_subreaper(True)
    try:
        yield reaper
    finally:
        reaper.sweep(keep=())
        if adopting:
            _set_subreaper(False)
