"""Limits on a whole process tree: control groups, where the machine offers them.

An address-space limit applies per process, so a submission that forks ten children gets ten
times its memory. A cgroup counts them all together, and its ``pids`` limit stops a fork
bomb. The grader makes one group per grading run, inside the group it already runs in, with a
child per judge and per submission process; it touches no group it did not make, and removes
them all (killing what is left in them) when the run ends.

cgroup v1 (a ``memory`` and a ``pids`` hierarchy) and cgroup v2 (a unified hierarchy whose
``cgroup.controllers`` offers ``memory`` and ``pids``) both work. Where neither is writable (not
root, or a container that forbids it), :func:`run_group` answers None and the per-process
rlimits of :mod:`.confine` are all there is (``docs/instructors.md`` says so).
"""

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")
ENV_VAR = "STEPUP_CGROUP"  # a judge learns its run's group from its environment


@dataclass(frozen=True)
class Group:
    """One cgroup: a folder per controller (v1), or one folder for both (v2)."""

    paths: tuple[Path, ...]
    v2: bool

    # --- making groups -------------------------------------------------------------------------

    def child(self, name: str, memory_mb: int | None = None, pids: int | None = None) -> "Group":
        """A new group inside this one, with its limits set before anything joins it."""
        group = Group(tuple(p / name for p in self.paths), self.v2)
        for path in group.paths:
            path.mkdir()
        if memory_mb is not None:
            group._write("memory.max" if self.v2 else "memory.limit_in_bytes", memory_mb << 20)
            if not self.v2:  # no swap either: the limit is the limit
                with contextlib.suppress(OSError):
                    group._write("memory.memsw.limit_in_bytes", memory_mb << 20)
        if pids is not None:
            group._write("pids.max", pids)
        return group

    def _write(self, name: str, value: int | str) -> None:
        """Set ``name`` in the folder that has it (OSError when none has: no silent no-limit)."""
        written = False
        for path in self.paths:
            if (path / name).exists():
                (path / name).write_text(str(value))
                written = True
        if not written:
            raise OSError(f"no cgroup file {name} in {self.paths}")

    def join(self, pid: int = 0) -> None:
        """Move ``pid`` (0: the caller) into this group; a child forked after joins it too."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid or os.getpid()))

    def to_env(self) -> str:
        return ("v2:" if self.v2 else "v1:") + os.pathsep.join(str(p) for p in self.paths)

    @classmethod
    def from_env(cls, text: str) -> "Group":
        kind, _, paths = text.partition(":")
        return cls(tuple(Path(p) for p in paths.split(os.pathsep)), kind == "v2")

    # --- reading and ending -------------------------------------------------------------------

    def pids(self) -> set[int]:
        """Every process in this group and the groups inside it."""
        found: set[int] = set()
        for path in self.paths:
            for procs in path.rglob("cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    found |= {int(line) for line in procs.read_text().split()}
        return found

    def peak_memory(self) -> int | None:
        """The most memory the group (with the groups inside it) ever held, in bytes."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                return int((path / name).read_text())
        return None

    def oom_kills(self) -> int:
        """How many times the kernel killed a process of this group for its memory."""
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                if self.v2:
                    for line in (path / "memory.events").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
                else:
                    for line in (path / "memory.oom_control").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
        return 0

    def remove(self, patience: float = 10.0) -> None:
        """Kill every process left in the group and the groups inside it, then remove them."""
        deadline = time.monotonic() + patience
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        for path in self.paths:
            for folder in sorted(_folders(path), key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _folders(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield path
        yield from (p for p in path.rglob("*") if p.is_dir())


def _own(controller: str) -> Path | None:
    """The folder of the caller's own cgroup for ``controller`` (v1), if mounted."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, where = line.split(":", 2)
            if controller in names.split(","):
                path = ROOT / controller / where.lstrip("/")
                return path if path.is_dir() else None
    return None


def _own_v2() -> Path | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                for mount in (ROOT, ROOT / "unified"):
                    path = mount / line[3:].lstrip("/")
                    controllers = path / "cgroup.controllers"
                    if controllers.is_file() and set(CONTROLLERS) <= set(
                        controllers.read_text().split()
                    ):
                        return path
    return None


def run_group(memory_mb: int, pids: int) -> Group | None:
    """A group for one grading run (judges and submissions inside it), limited to
    ``memory_mb`` and ``pids`` in all; None where this machine offers no writable cgroups."""
    name = f"stepup-run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    v1 = [_own(c) for c in CONTROLLERS]
    candidates: list[Group] = []
    if all(v1):
        candidates.append(Group(tuple(p for p in v1 if p is not None), v2=False))
    if (v2 := _own_v2()) is not None:
        candidates.append(Group((v2,), v2=True))
    for parent in candidates:
        try:
            if parent.v2:  # children get limits only where the parent hands the controllers down
                (parent.paths[0] / "cgroup.subtree_control").write_text("+memory +pids")
            group = parent.child(name, memory_mb, pids)
            if group.v2:
                (group.paths[0] / "cgroup.subtree_control").write_text("+memory +pids")
            return group
        except OSError:
            Group(tuple(p / name for p in parent.paths), parent.v2).remove(patience=0)
    return None


def inherited() -> Group | None:
    """The run's group, handed to a judge through its environment."""
    text = os.environ.get(ENV_VAR)
    return Group.from_env(text) if text else None


def child_of_run(name: str, memory_mb: int, pids: int) -> Group | None:
    """A group for one submission process inside the run's, or None (no run group, or the
    machine refused: the per-process limits still hold)."""
    run = inherited()
    if run is None:
        return None
    try:
        return run.child(name, memory_mb, pids)
    except OSError:
        return None


def available() -> bool:
    """Whether this machine lets the grader make control groups (tried, then removed)."""
    group = run_group(64, 8)
    if group is None:
        return False
    group.remove()
    return True
