"""How the submission process is confined: by the operating system, never by Python.

- ``bwrap`` (root, Debian's ``bubblewrap`` installed and working): new PID, network, IPC and
  UTS namespaces and a mount namespace that holds only read-only system and Python folders,
  the app's code and the submission's own files, plus a private size-limited tmpfs as its only
  writable folder; inside it the process drops to a uid of its own with ``setpriv`` (no
  groups, no capabilities, no new privileges), and it dies with the judge
  (``--die-with-parent``), its detached children included.
- ``user`` (root without a working bubblewrap, e.g. a container that forbids namespaces): the
  process runs as a uid of its own in its own session; the judge's files stay out of reach
  only where they are not world-readable.
- ``none`` (not root: a student's laptop): a separate process and nothing more. It protects
  nobody but the student, and the code path is the same.
"""

import contextlib
import fcntl
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from course_kit.grading.sandbox.cgroups import Group
from course_kit.kit import KIT_ROOT, SANDBOX_PARTS

MiB = 1 << 20
# Each submission process runs as a uid of its own, claimed for its lifetime: the kernel counts
# RLIMIT_NPROC per uid, so a shared uid would let one submission starve a classmate's.
UIDS = range(3_900_000, 3_901_000)
UID_LOCKS = Path(tempfile.gettempdir()) / "stepup-uids"
MODES = ("bwrap", "user", "none")
MAX_PROCESSES = 256  # processes and threads of one submission (its uid, its cgroup)
SYSTEM_FOLDERS = ("/usr", "/etc/alternatives", "/etc/ssl")
USR_LINKS = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}


@dataclass(frozen=True)
class Layout:
    """Where things are on the host, and where the submission process sees them."""

    code: Path  # the kit's folder: only its ``SANDBOX_PARTS`` are seen (read-only)
    exercises: Path  # the submission's exercise files (read-only)
    scratch: Path  # the one writable folder (``bwrap``: a private tmpfs, never on the host)
    shared: Path | None = None  # a folder of the judge's sockets (reachable, not writable)
    uid: int = 65534
    scratch_mb: int = 256


class Uid:
    """A uid claimed for one submission process: a lock file held while it runs, in a folder
    every grader of the machine shares. A uid is handed out only with no process left under
    it: whatever a submission left running (a detached child) is killed before its uid is
    released, and again when the next claimant takes it (a grader that died released its lock
    without cleaning up)."""

    def __init__(self) -> None:
        UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for uid in UIDS:
            handle = os.open(UID_LOCKS / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            self.uid, self._handle = uid, handle
            kill_uid(uid)
            return
        raise RuntimeError("no free uid for a submission process")

    def release(self) -> None:
        if self._handle >= 0:
            kill_uid(self.uid)
            os.close(self._handle)
            self._handle = -1


def processes_of(uid: int) -> list[int]:
    """Every process whose real or effective uid is ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if str(uid) in line.split()[1:3]:
                        found.append(int(entry.name))
                    break
    return found


def kill_uid(uid: int, patience: float = 10.0) -> None:
    """Kill every process running as ``uid`` until none is left (only the grader's own uids,
    from ``UIDS``, ever get here)."""
    assert uid in UIDS, uid
    deadline = time.monotonic() + patience
    while (left := processes_of(uid)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


@dataclass(frozen=True)
class Confinement:
    mode: str

    def command(self, layout: Layout, argv: Sequence[str]) -> tuple[list[str], Layout]:
        """The command line that runs ``argv`` confined, and the layout as seen inside."""
        if self.mode != "bwrap":
            return list(argv), layout
        # The files keep their folder's name: messages say exercises/ex01_….py, as at home.
        files = Path("/submission") / layout.exercises.name
        inside = Layout(Path("/kit"), files, Path("/scratch"), Path("/judge"), layout.uid)
        args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        # Mounts apply in order: the fresh /proc, /dev and /tmp first, so that binds below
        # them (a kit or virtualenv under /tmp) are not hidden by them.
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for folder in SYSTEM_FOLDERS:
            args += ["--ro-bind-try", folder, folder]
        for link, target in USR_LINKS.items():
            if os.path.islink(link):
                args += ["--symlink", target, link]
            elif os.path.isdir(link):
                args += ["--ro-bind", link, link]
        for python in python_folders():
            args += [*_parents(python), "--ro-bind", str(python), str(python)]
        args += kit_binds(layout.code, Path("/kit"))
        args += ["--perms", "0755", "--dir", "/submission"]
        args += ["--ro-bind", str(layout.exercises), str(inside.exercises)]
        size = str(layout.scratch_mb * MiB)
        args += ["--perms", "01777", "--size", size, "--tmpfs", str(inside.scratch)]
        if layout.shared is not None:
            args += ["--bind", str(layout.shared), str(inside.shared)]
        args += ["--chdir", "/scratch"]
        drop = ["setpriv", f"--reuid={layout.uid}", f"--regid={layout.uid}", "--clear-groups"]
        drop += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return [*args, "--", *drop, *argv], inside

    def prepare(self, scratch: Path, uid: int) -> None:
        """Give the scratch folder (on the host: ``user`` and ``none``) to the process's user."""
        if self.mode == "user":
            os.chown(scratch, uid, uid)
            scratch.chmod(0o700)

    def preexec(
        self, memory_mb: int, file_size_mb: int, uid: int, group: Group | None = None
    ) -> Callable[[], None]:
        """Runs in the child between fork and exec: limits, the process tree's control group
        (while still root), then (``user``) the uid."""
        memory, fsize = memory_mb * MiB, file_size_mb * MiB
        mode = self.mode

        def apply() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if mode != "none":
                resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
            if group is not None:
                group.join()
            if mode == "user":
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)

        return apply


def kit_binds(code: Path, inside: Path) -> list[str]:
    """Read-only binds of the kit's sandbox parts (``SANDBOX_PARTS``), each folder on the way
    made passable (bwrap would make it 0700)."""
    args = ["--perms", "0755", "--dir", str(inside)]
    made = {inside}
    for part in SANDBOX_PARTS:
        target = inside / part
        for parent in reversed(target.parents):
            if parent.is_relative_to(inside) and parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(code / part), str(target)]
    return args


def python_folders() -> list[Path]:
    """The interpreter's own folders: the virtualenv and the Python it was made from."""
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    executable = Path(sys.executable).resolve()
    if not any(executable.is_relative_to(f) for f in folders):
        folders.add(executable.parent)
    # One bind for nested folders: the outer one already holds the inner.
    return sorted(f for f in folders if not any(f != o and f.is_relative_to(o) for o in folders))


def _parents(folder: Path) -> list[str]:
    """bwrap makes missing mount points 0700; walking through them needs 0755."""
    args: list[str] = []
    for parent in reversed(folder.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


# Why each mode's probe failed in this process (filled by detect()), as (cause, detail) with
# cause "not installed" or "cannot run": a refusal names the real cause, and its fix.
PROBE_FAILURES: dict[str, tuple[str, str]] = {}


@functools.cache
def detect(wanted: str | None = None) -> Confinement:
    """The strongest confinement this machine offers (``STEPUP_CONFINE`` may ask for less)."""
    wanted = wanted or os.environ.get("STEPUP_CONFINE") or "auto"
    if wanted not in (*MODES, "auto"):
        raise ValueError(f"STEPUP_CONFINE must be one of {MODES} or auto, not {wanted!r}")
    if os.geteuid() != 0:
        return Confinement("none")
    if wanted in ("auto", "bwrap") and _works(Confinement("bwrap")):
        return Confinement("bwrap")
    if wanted in ("auto", "user") and _works(Confinement("user")):
        return Confinement("user")
    return Confinement("none")  # e.g. the interpreter lives where nobody may read it


def _works(confinement: Confinement) -> bool:
    """Start Python the way the submission process would be started, once; record why not."""
    missing = [tool for tool in ("bwrap", "setpriv") if not shutil.which(tool)]
    if confinement.mode == "bwrap" and missing:
        PROBE_FAILURES["bwrap"] = ("not installed", f"{' and '.join(missing)} not installed")
        return False
    uid = Uid()
    with tempfile.TemporaryDirectory(prefix="stepup-probe-") as folder:
        empty = Path(folder)
        confinement.prepare(empty, uid.uid)
        code = KIT_ROOT
        layout = Layout(code, empty, empty, uid=uid.uid)
        probe = [sys.executable, "-c", "import course_kit.kit"]
        argv, inside = confinement.command(layout, probe)
        env = {"PYTHONPATH": str(inside.code), "PATH": "/usr/bin:/bin"}
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=30,
                check=False,
                env=env,
                cwd=folder if confinement.mode != "bwrap" else "/",
                preexec_fn=confinement.preexec(1024, 16, uid.uid),
            )
        except OSError as exc:  # exec failed in the child, as the confined user
            detail = f"uid {uid.uid} cannot run {sys.executable}: {exc.strerror or exc}"
            PROBE_FAILURES[confinement.mode] = ("cannot run", detail)
            return False
        except subprocess.TimeoutExpired:
            PROBE_FAILURES[confinement.mode] = ("cannot run", "Python did not start within 30 s")
            return False
        finally:
            uid.release()
    if done.returncode != 0:  # it started, and failed: its last words say why
        said = done.stderr.decode(errors="replace").strip().splitlines()
        last = said[-1] if said else f"exit status {done.returncode}"
        detail = f"uid {uid.uid} could not run {sys.executable}: {last}"
        PROBE_FAILURES[confinement.mode] = ("cannot run", detail)
    return done.returncode == 0
