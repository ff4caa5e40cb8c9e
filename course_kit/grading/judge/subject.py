"""The judge's handle on a submission process (see :mod:`course_kit.grading.sandbox.process`).

The judge starts it once per submission, confined (:mod:`course_kit.grading.sandbox.confine`), and
talks to it over HTTP on a Unix socket and a line-based control channel. Every wait has a
deadline (the current test's budget): a submission that hangs or dies costs the test it
happened in, and the judge starts a fresh process for the next one.
"""

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_kit.grading.judge.failures import (
    ExerciseBroken,
    ProtocolViolation,
    SubjectCrashed,
    SubjectError,
    SubjectTimeout,
    describe_exit,
)
from course_kit.grading.sandbox import cgroups
from course_kit.grading.sandbox.confine import MAX_PROCESSES, Confinement, Layout, Uid, detect
from course_kit.grading.sandbox.protocol import (
    EXERCISE_HEADER,
    MAX_LINE,
    MAX_QUESTIONS,
    OPS,
    Part,
    socket_client,
)
from course_kit.kit import KIT_ROOT
from course_kit.manifest import Limits, load_course

if TYPE_CHECKING:  # imported where a client is made: the process starts before the judge loads
    import httpx

# Deadlines stay real while a test freezes time: freezegun replaces module attributes that
# are the real clock functions, but not a value held in a dict.
_REAL = {"monotonic": time.monotonic}


def real_monotonic() -> float:
    return _REAL["monotonic"]()


def scratch_root() -> str | None:
    """Prefer memory-backed /dev/shm: SQLite commits and fsyncs cost nothing there."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@dataclass
class Subject:
    """One submission process: started, restarted after a hang or crash, stopped."""

    folder: Path  # the submission's exercise files
    exercise_ids: Sequence[str]
    limits: Limits
    code_root: Path = KIT_ROOT
    confinement: Confinement = field(default_factory=detect)
    work: Path = field(init=False)
    broken: dict[str, str] = field(default_factory=dict)  # exercise → why it cannot be used
    deadline: float | None = None  # real monotonic time the current test must end by
    violations: list[tuple[str | None, str]] = field(default_factory=list)  # (exercise, what)
    timed_out: set[str] = field(default_factory=set)  # exercises whose import hung
    # The next launch imports no exercise file: the first reload does (``renew``).
    deferred: bool = False

    def __post_init__(self) -> None:
        self.folder = self.folder.resolve()
        root = os.environ.get("STEPUP_WORK_ROOT") or scratch_root()  # the engine's, if any
        self.work = Path(tempfile.mkdtemp(prefix="stepup-subject-", dir=root))
        self.work.chmod(0o711)  # others may pass through to shared/, never list or read
        self.shared = self.work / "shared"  # the judge's own sockets, reachable from inside
        self.shared.mkdir(mode=0o755)
        # The judge reaches the student's app through a socket it bound itself, in a folder
        # of its own: it never opens a path the submission could have replaced.
        self.private = self.work / "judge"
        self.private.mkdir(mode=0o700)
        self.log = self.private / "output.log"
        self.uid = Uid() if self.confinement.mode != "none" else None
        self.source = self.folder  # the submission's own folder; ``folder``: what the process reads
        if self.confinement.mode == "user" and self.uid is not None:
            # No mount namespace: the files must be readable by this submission's uid alone.
            self.folder = self._private_copy(self.source, self.uid.uid)
        # The whole process tree's memory and process count (every child, detached or not).
        self.group = cgroups.child_of_run(
            f"subject-{uuid.uuid4().hex[:8]}", self.limits.memory_mb, MAX_PROCESSES
        )
        self.in_flight: str | None = None  # the exercise whose call or request is under way
        self.ooms = 0  # the kernel's count of out-of-memory kills in the group, last read
        self.proc: subprocess.Popen[bytes] | None = None
        self.inside: Layout | None = None
        self.buffer = b""
        self.sequence = 0
        self.ready: dict[str, Any] | None = None

    def _private_copy(self, folder: Path, uid: int) -> Path:
        """The submission's files in a folder only ``uid`` may read (``user`` mode has no
        mount namespace: a world-readable folder would be a classmate's to read)."""
        copy = self.work / "submission" / folder.name
        shutil.rmtree(copy.parent, ignore_errors=True)
        copy.mkdir(parents=True)
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink():
                shutil.copyfile(path, copy / path.name)
                os.chown(copy / path.name, uid, uid)
                (copy / path.name).chmod(0o400)
        for made in (copy, copy.parent):
            os.chown(made, uid, uid)
            made.chmod(0o500)
        return copy

    # --- life cycle ---------------------------------------------------------------------------

    @property
    def scratch(self) -> Path:
        """The process's writable folder on the host (``user`` and ``none`` modes only)."""
        return self.work / "scratch"

    @property
    def app_socket(self) -> Path:
        return self.private / "app.sock"

    def launch(self) -> None:
        """Start the process (it imports and boots while the judge does other work)."""
        uid = self.uid.uid if self.uid else os.getuid()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.confinement.mode != "bwrap":
            self.scratch.mkdir()
            self.confinement.prepare(self.scratch, uid)
        layout = Layout(
            self.code_root, self.folder, self.scratch, self.shared, uid, self.limits.scratch_mb
        )
        self.app_socket.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.app_socket))
        listener.listen(64)
        wanted = [
            Part.of(load_course(self.code_root).exercise(e)).spec()
            for e in self.exercise_ids
            if e not in self.broken and not self.deferred
        ]
        argv = [sys.executable, "-m", "course_kit.grading.sandbox.process"]
        command, self.inside = self.confinement.command(layout, argv)
        command += [str(self.inside.exercises), str(self.inside.scratch), str(listener.fileno())]
        command += wanted
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.inside.scratch),
            "TMPDIR": str(self.inside.scratch),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.inside.code),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            "STEPUP_KIT_ROOT": str(self.inside.code),
            "MALLOC_ARENA_MAX": "2",  # glibc arenas would eat the address-space limit
        }
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=self.scratch if self.confinement.mode != "bwrap" else "/",
                start_new_session=True,
                pass_fds=(listener.fileno(),),
                preexec_fn=self.confinement.preexec(
                    self.limits.memory_mb, self.limits.file_size_mb, uid, self.group
                ),
            )
        listener.close()  # the process serves it; connections wait in its backlog
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.ready = None

    def wait_ready(self) -> None:
        """Wait for the boot: ``importing X``, ``imported X`` for each exercise in order, then
        ``ready``. An import that hangs, kills the process or breaks the protocol marks that
        exercise broken, and the process starts again without it."""
        while self.ready is None:
            if self.proc is None:
                self.launch()
            expected = [e for e in self.exercise_ids if e not in self.broken]
            if self.deferred:  # it imports nothing until the reload that clears the flag
                expected = []
            steps: list[tuple[str, str | None]] = [
                (kind, e) for e in expected for kind in ("importing", "imported")
            ]
            steps.append(("ready", None))
            importing: str | None = None
            deadline = real_monotonic() + self.limits.startup_timeout
            for kind, exercise in steps:
                self.in_flight = importing  # what the submission writes now is this file's doing
                try:
                    event = self.read_line(deadline)
                    if event.get("event") != kind or event.get("exercise", exercise) != exercise:
                        raise self.violation(f"a message out of turn while booting: {event}")
                except SubjectError as exc:
                    self.give_up_on(importing, exc)
                    break
                finally:
                    self.in_flight = None
                importing = exercise if kind == "importing" else None
                limit = self.limits.import_timeout if importing else self.limits.startup_timeout
                deadline = real_monotonic() + limit
                if kind == "ready":
                    self.ready = event
                    for name, error in event.get("errors", {}).items():
                        if error and name in expected:
                            self.broken[name] = str(error)[:500]

    def give_up_on(self, importing: str | None, exc: SubjectError) -> None:
        code = self.stop()
        if importing is None:
            raise SubjectError(f"the submission process did not start: {exc}") from None
        shown = self.shown(importing)
        if isinstance(exc, SubjectTimeout):
            self.timed_out.add(importing)
            self.broken[importing] = (
                f"importing {shown} did not finish within {self.limits.import_timeout:g} s"
                " (an endless loop at import time?)"
            )
        elif isinstance(exc, ProtocolViolation):
            self.broken[importing] = (
                f"while importing {shown}, the submission wrote {exc.what}: not graded"
            )
        else:
            self.broken[importing] = (
                f"the submission process {self.died(code)} while importing {shown}"
                " (sys.exit, os._exit, or a crash at import time)"
            )

    def check_usable(self, exercise_id: str) -> None:
        """Raise :class:`ExerciseBroken` when ``exercise_id``'s file cannot be used."""
        self.usable()
        if exercise_id in self.broken:
            status = "timeout" if exercise_id in self.timed_out else "error"
            raise ExerciseBroken(status, self.broken[exercise_id])

    def shown(self, exercise_id: str) -> str:
        exercise = load_course(self.code_root).exercise(exercise_id)
        return f"{self.folder.name}/{exercise.file}"

    def reload(self, exercise_ids: Sequence[str]) -> None:
        """Import the files of ``exercise_ids`` as they are now, within the import time
        limit, in the running process: the first import there after :meth:`renew`. Whatever
        it cannot do that way (it is not running, the import hangs or kills it), a fresh
        process does at its boot."""
        for exercise_id in exercise_ids:
            self.broken.pop(exercise_id, None)
            self.timed_out.discard(exercise_id)
        if self.folder != self.source and self.uid is not None:  # the private copy, renewed
            self.folder = self._private_copy(self.source, self.uid.uid)
        if self.proc is not None and self.ready is None and self.proc.poll() is None:
            with contextlib.suppress(SubjectError):
                self.wait_ready()  # renewed a moment ago: still booting
        self.deferred = False  # from here on, a boot (after a crash) imports every file
        if self.proc is None or self.ready is None or self.proc.poll() is not None:
            self.stop()
            return  # the next use boots a fresh process, with every file as it is now
        parts = [Part.of(load_course(self.code_root).exercise(e)).spec() for e in exercise_ids]
        self.deadline = real_monotonic() + self.limits.import_timeout
        try:
            errors = self.command("reload", parts=parts)["errors"]
        except SubjectError:
            self.stop()  # the boot of a fresh process tells what went wrong, file by file
            return
        finally:
            self.deadline = None
        for name, error in errors.items():
            if error and name in exercise_ids:
                self.broken[name] = str(error)[:500]

    def renew(self) -> None:
        """End this process and start a fresh one that imports no exercise file until the
        next :meth:`reload` (``stepup watch`` and warm checks, between two checks): it boots
        while the student edits, and no state of an earlier version of a file, nor anything
        a file changed in the kit's modules, reaches the next check."""
        self.stop()
        self.deferred = True
        self.launch()

    def usable(self) -> None:
        """Make sure a process is up and booted (after a hang or crash, a fresh one)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.stop()
        self.wait_ready()

    def stop(self) -> int | None:
        """Kill the process and everything it started, detached children included; return
        its exit code."""
        proc, self.proc, self.ready = self.proc, None, None
        if proc is None:
            return None
        code = proc.poll()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for pid in self.group.pids() if self.group is not None else ():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]
        return code

    def close(self) -> None:
        self.stop()
        if self.group is not None:
            self.group.remove()
        if self.uid is not None:
            self.uid.release()  # only once nothing runs under it any more
        shutil.rmtree(self.work, ignore_errors=True)

    def died(self, code: int | None) -> str:
        """Why the process ended, in words: out of memory when the kernel said so."""
        ooms = self.group.oom_kills() if self.group is not None else 0
        fresh, self.ooms = ooms > self.ooms, ooms
        if fresh:
            return (
                f"ran out of memory (the limit is {self.limits.memory_mb} MiB for the"
                " submission and everything it started)"
            )
        return describe_exit(code)

    def ended(self) -> str:
        """Why the channel closed: the process's end, waited for a moment. A process that
        closed its end of the channel and went on running is stopped instead."""
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        code = self.proc.poll()
        if code is None:
            self.stop()
        return f"the submission process {self.died(code)}"

    def output(self, limit: int) -> str:
        """The tail of what the submission printed."""
        with contextlib.suppress(OSError), self.log.open("rb") as fh:
            fh.seek(max(0, self.log.stat().st_size - limit))
            return fh.read().decode("utf-8", "replace")
        return ""

    # --- the control channel -------------------------------------------------------------------

    def remaining(self, deadline: float | None = None) -> float:
        deadline = deadline or self.deadline or real_monotonic() + self.limits.per_test_timeout
        return deadline - real_monotonic()

    def read_line(self, deadline: float | None = None) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = self.remaining(deadline)
                if left <= 0:
                    raise SubjectTimeout(
                        f"did not finish within {self.limits.per_test_timeout:g} s"
                    )
                if not selector.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise SubjectCrashed(self.ended())
                self.buffer += chunk
                if len(self.buffer) > MAX_LINE:
                    raise self.violation("an over-long line on the control channel")
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise self.violation("a line that is not JSON on the control channel") from None
        if not isinstance(message, dict):
            raise self.violation("a message that is not an object on the control channel")
        return message

    def forged(self, message: dict[str, Any]) -> None:
        """A message nobody asked for: the process's own code never writes one (the dialog
        cannot be opened outside a call), so the submission wrote on the channel itself. A boot
        event now means the boot was forged while that exercise's file was being imported:
        that exercise is not graded. Anything else is charged to the call in flight."""
        what = f"a message out of turn ({str(message)[:200]})"
        late = message.get("exercise") if "event" in message else None
        late = late if isinstance(late, str) and late in self.exercise_ids else None
        if late is not None:
            self.broken[late] = f"{self.shown(late)} forged messages on the grader's channel"
        raise self.violation(what, late)

    def violation(self, what: str, exercise: str | None = None) -> "ProtocolViolation":
        """Record what the submission wrote, charged to ``exercise`` (else the exercise whose
        import, call or request is in flight), and stop the process; the caller raises it."""
        self.violations.append((exercise or self.in_flight, what))
        self.stop()
        return ProtocolViolation(what)

    def send(self, message: dict[str, Any]) -> None:
        """Write one line to the process, within the test's time: a process that never reads
        its input fills the pipe, and then the grader must not wait for ever."""
        assert self.proc is not None and self.proc.stdin is not None
        data = json.dumps(message).encode() + b"\n"
        fd = self.proc.stdin.fileno()
        os.set_blocking(fd, False)
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_WRITE)
            while data:
                left = self.remaining()
                if left <= 0:
                    raise SubjectTimeout(
                        f"did not finish within {self.limits.per_test_timeout:g} s (the"
                        " submission stopped reading what the grader sends it)"
                    )
                if not selector.select(left):
                    continue
                try:
                    data = data[os.write(fd, data) :]
                except BlockingIOError:
                    continue
                except OSError:
                    raise SubjectCrashed(self.ended()) from None

    def command(
        self, op: str, on_modal: Callable[[Any], Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Send one command and wait for its reply, answering the dialog's questions.

        Whatever goes wrong on the judge's side meanwhile (the dialog asked too often, a
        check raised), the process is stopped: it may be in the middle of the call, and the
        next test must not read what it says next."""
        assert op in OPS, f"not an operation of the protocol: {op}"
        self.usable()
        self.sequence += 1
        ident = self.sequence
        exercise = fields.get("exercise")
        self.in_flight = exercise if isinstance(exercise, str) else None
        finished = False
        try:
            self.send({"id": ident, "op": op, **fields})
            for _ in range(MAX_QUESTIONS + 1):
                message = self.read_line()
                if message.get("id") != ident:
                    self.forged(message)
                if "modal" not in message:
                    finished = True
                    return message
                answer = on_modal(message["modal"]) if on_modal else None
                self.send({"id": ident, "answer": answer})
            raise AssertionError(
                f"the dialog was opened more than {MAX_QUESTIONS} times in one call: is there"
                " a loop?"
            )
        finally:
            if not finished:
                self.stop()
            self.in_flight = None

    # --- HTTP to the student's app ---------------------------------------------------------------

    def http(self, exercise_id: str) -> "httpx.Client":
        """A browser-like client of the app that mounts ``exercise_id``'s router."""
        self.usable()
        from course_kit.grading.judge.transport import DeadlineTransport  # httpx: not at start

        return socket_client(DeadlineTransport(self, exercise_id), {EXERCISE_HEADER: exercise_id})


# Set by ``python -m course_kit.grading.judge`` before pytest even loads: the submission process
# boots while the judge imports and collects its tests. A pytest run closes it at its end,
# unless it is KEPT (the judge of ``stepup watch`` keeps one process for every check).
PRELAUNCHED: list[Subject] = []
KEPT: list[Subject] = []
