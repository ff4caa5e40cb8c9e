"""Run the graded tests in watched child processes ("lanes"), one pytest process at a time
per lane, and turn whatever happens into one result per expected test.

The child streams signed records (see :mod:`course_app.grading.reporter`); this side never
imports student code. It enforces the per-test, import and overall timeouts, kills a hung or
crashed child and starts a fresh one for the tests still owed, reconciles what came back against
the collected test list (a test that never reported is an error, never a pass), checks the
canaries, and marks tampering for the instructor.
"""

import contextlib
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_app.grading.config import Limits
from course_app.grading.protocol import FDS_ENV, Decoder
from course_app.manifest import Course

TICK = 0.2  # how often a quiet lane is looked at, in seconds
LINGER = 2.0  # how long a child may take to exit after its last result
MiB = 1 << 20


@dataclass
class TestResult:
    nodeid: str
    name: str
    exercise: str | None
    task: int | None
    status: str  # pass | fail | error | timeout | skipped
    message: str = ""
    duration: float = 0.0
    visibility: str = "visible"


@dataclass(frozen=True)
class Flag:
    """Something the instructor should look at; the exercise it concerns earned nothing."""

    exercise: str | None
    reason: str


@dataclass
class RunOutcome:
    results: list[TestResult]
    flags: list[Flag] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    output: str = ""
    listed: list[dict[str, Any]] = field(default_factory=list)  # every collected test
    import_errors: dict[str, str] = field(default_factory=dict)  # exercise → why it broke


@dataclass
class RunSpec:
    """What to run and under which rules."""

    kit_root: Path
    impl_folder: Path
    course: Course
    collect: Sequence[str]  # exercises whose tests are listed
    run: Sequence[str]  # exercises whose tests are run (a subset of ``collect``)
    limits: Limits
    hidden_dir: str | None = None  # include these hidden tests (relative to the kit)
    unreadable: Sequence[Path] = ()
    shards: int = 1
    scratch: Path | None = None  # writable folder for the children (a fresh one if None)
    guard: Callable[[], list[str]] | None = None  # checks the kit copy is still pristine

    def test_files(self, exercise_id: str) -> list[Path]:
        folders = [self.kit_root / "tests" / "graded"]
        if self.hidden_dir:
            folders.append(self.kit_root / self.hidden_dir)
        return [p for folder in folders for p in sorted(folder.glob(f"test_{exercise_id}_*.py"))]

    def visibility(self, nodeid: str) -> str:
        hidden = self.hidden_dir and nodeid.startswith(self.hidden_dir.rstrip("/") + "/")
        return "hidden" if hidden else "visible"


def scratch_root() -> str | None:
    """Prefer memory-backed /dev/shm: SQLite commits and fsyncs cost nothing there."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _limit_child(limits: Limits) -> Callable[[], None]:
    memory, fsize = limits.memory_mb * MiB, limits.file_size_mb * MiB

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def child_env(kit_root: Path, scratch: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (tokens, paths, settings) leaks in."""
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(kit_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # third-party plugins cost seconds to load
        "MALLOC_ARENA_MAX": "2",  # glibc arenas would eat the address-space limit
        "STEPUP_KIT_ROOT": str(kit_root),
        "STEPUP_BCRYPT_ROUNDS": "4",
    }


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "was stopped"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass(frozen=True)
class Running:
    """The item a child is busy with: a graded test, a probe or a canary."""

    nodeid: str
    kind: str
    exercise: str | None
    since: float


@dataclass
class Attempt:
    proc: subprocess.Popen
    fd: int
    decoder: Decoder
    log: Path
    started: float
    last_event: float
    current: "Running | None" = None
    collected: bool = False
    owed: int = 0  # tests still owed when this child listed them
    done: bool = False
    eof: bool = False
    tamper: str | None = None


class Lane:
    """One child process at a time for a fixed set of exercises, restarted until every
    expected test of those exercises has a result."""

    def __init__(self, run: "Runner", index: int, exercises: list[str]) -> None:
        self.runner = run
        self.index = index
        self.exercises = exercises
        self.expected: list[str] = []
        self.dropped: set[str] = set()
        self.attempt: Attempt | None = None
        self.attempts = 0
        self.finished = False
        self.logs: list[Path] = []

    # --- bookkeeping ------------------------------------------------------------------------

    def remaining(self) -> list[str]:
        results = self.runner.results
        return [
            nodeid
            for nodeid in self.expected
            if nodeid not in results and self.runner.meta[nodeid]["exercise"] not in self.dropped
        ]

    def settle(self, nodeid: str, status: str, message: str, duration: float = 0.0) -> None:
        meta = self.runner.meta[nodeid]
        self.runner.results[nodeid] = TestResult(
            nodeid,
            meta["name"],
            meta["exercise"],
            meta["task"],
            status,
            message[:500],
            round(duration, 3),
            self.runner.spec.visibility(nodeid),
        )

    def lose_task(self, nodeid: str, status: str, message: str, since: float) -> None:
        """``nodeid`` hung or crashed: it fails, and the rest of its task need not run."""
        self.settle(nodeid, status, message, time.monotonic() - since)
        meta = self.runner.meta[nodeid]
        for other in self.remaining():
            other_meta = self.runner.meta[other]
            if (other_meta["exercise"], other_meta["task"]) == (meta["exercise"], meta["task"]):
                self.settle(
                    other, "skipped", f"not run: the task was already lost ({meta['name']})"
                )

    def lose_exercise(self, exercise: str | None, status: str, message: str) -> None:
        for nodeid in self.remaining():
            if self.runner.meta[nodeid]["exercise"] == exercise:
                self.settle(nodeid, status, message)

    def tamper(self, exercise: str | None, reason: str) -> None:
        """The exercise's results cannot be trusted: all its tests earn nothing."""
        self.runner.flags.append(Flag(exercise, reason))
        targets = [exercise] if exercise else list(self.exercises)
        for nodeid in self.expected:
            if self.runner.meta[nodeid]["exercise"] in targets:
                self.settle(nodeid, "error", f"not graded: {reason} (flagged for the instructor)")
        self.dropped.update(t for t in targets if t)

    # --- one child --------------------------------------------------------------------------

    def spawn(self, select: list[str] | None) -> None:
        spec = self.runner.spec
        self.attempts += 1
        key = secrets.token_bytes(32)
        control_r, control_w = os.pipe()
        results_r, results_w = os.pipe()
        log = self.runner.scratch / f".lane{self.index}-{self.attempts}.log"
        self.logs.append(log)
        basetemp = self.runner.scratch / f"lane{self.index}-{self.attempts}"
        files = [str(p) for e in self.exercises for p in spec.test_files(e)]
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "--tb=short",
            "--show-capture=no",  # a flood captured from student code stays in its test
            "-p",
            "no:cacheprovider",
            "-p",
            "course_app.grading.reporter",
            f"--basetemp={basetemp}",
            f"--impl={spec.impl_folder}",
            *files,
        ]
        env = self.runner.env | {FDS_ENV: f"{control_r},{results_w}"}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                cwd=spec.kit_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(control_r, results_w),
                start_new_session=True,
                preexec_fn=_limit_child(spec.limits),
            )
        os.close(control_r)
        os.close(results_w)
        control = {
            "key": key.hex(),
            "nonce": self.runner.nonce,
            "exercises": [e.id for e in spec.course.exercises],
            "run": [e for e in self.exercises if e in spec.run and e not in self.dropped],
            "select": select,
            "writable": [str(self.runner.scratch)],
            "unreadable": [str(p) for p in spec.unreadable],
        }
        try:
            os.write(control_w, json.dumps(control).encode())
        except BrokenPipeError:
            pass  # the child died at once; the exit is handled like any other
        finally:
            os.close(control_w)
        os.set_blocking(results_r, False)
        now = time.monotonic()
        self.attempt = Attempt(proc, results_r, Decoder(key), log, now, now)
        self.runner.selector.register(results_r, selectors.EVENT_READ, self)

    def read(self) -> None:
        attempt = self.attempt
        assert attempt is not None
        try:
            data = os.read(attempt.fd, 1 << 16)
        except BlockingIOError:
            return
        if not data:
            attempt.eof = True
            self.runner.selector.unregister(attempt.fd)
            return
        for event in attempt.decoder.feed(data):
            self.handle(event)
        if attempt.decoder.problems and attempt.tamper is None:
            attempt.tamper = attempt.decoder.problems[0]

    def handle(self, event: dict[str, Any]) -> None:
        attempt = self.attempt
        assert attempt is not None
        now = time.monotonic()
        attempt.last_event = now
        kind = event.get("event")
        if kind == "collected":
            self.collected(attempt, event["tests"])
        elif kind == "start":
            attempt.current = Running(event["nodeid"], event["kind"], event["exercise"], now)
        elif kind == "result":
            self.result(attempt, event, now)
        elif kind == "done":
            attempt.done = True

    def collected(self, attempt: Attempt, tests: list[dict[str, Any]]) -> None:
        attempt.collected = True
        listed = []
        for test in tests:
            self.runner.meta.setdefault(test["nodeid"], test)
            if test["exercise"] in self.runner.spec.run:
                listed.append(test["nodeid"])
        if self.attempts == 1:
            self.expected = listed
        elif listed != self.expected:
            attempt.tamper = "the list of graded tests changed between two runs"
        attempt.owed = len(self.remaining())

    def result(self, attempt: Attempt, event: dict[str, Any], now: float) -> None:
        nodeid, kind = event["nodeid"], event["kind"]
        current = attempt.current
        if current is None or current.nodeid != nodeid:
            attempt.tamper = f"a result arrived for {event['name']} while it was not running"
            return
        attempt.current = None
        exercise = current.exercise
        if kind == "canary":
            if event["status"] != "fail" or event["message"] != f"canary {self.runner.nonce}":
                attempt.tamper = (
                    f"the canary test that must fail came back {event['status']!r}: the test"
                    " reporting was tampered with"
                )
                attempt.current = current
            return
        if kind == "probe":
            if event["status"] != "pass":
                self.runner.import_errors[exercise] = event["message"]
            return
        if nodeid in self.runner.meta and exercise not in self.dropped:
            self.settle(nodeid, event["status"], event["message"], now - current.since)

    def tick(self, now: float) -> None:
        """Timeouts, exits and tampering: end the attempt and start the next if tests remain."""
        attempt = self.attempt
        if attempt is None:
            return
        limits = self.runner.spec.limits
        reason = None
        if attempt.tamper:
            reason = "tamper"
        elif attempt.current is not None:
            kind = attempt.current.kind
            allowed = limits.import_timeout if kind == "probe" else limits.per_test_timeout
            if now - attempt.current.since > allowed:
                reason = "timeout"
        elif attempt.done and now - attempt.last_event > LINGER:
            reason = "exit"  # every result is in; a thread left running keeps it alive
        elif not attempt.collected and now - attempt.started > limits.startup_timeout:
            reason = "startup"
        elif (
            attempt.collected
            and not attempt.done
            and now - attempt.last_event > (limits.per_test_timeout + limits.import_timeout)
        ):
            reason = "stalled"
        if reason is None:
            if attempt.proc.poll() is None and not attempt.eof:
                return
            reason = "exit"
        self.end(attempt, reason)
        self.next()

    def end(self, attempt: Attempt, reason: str) -> None:
        self.kill(attempt)
        self.drain(attempt)  # whatever the child wrote before it stopped still counts
        if attempt.tamper:
            reason = "tamper"
        code = attempt.proc.returncode
        current = attempt.current
        spec = self.runner.spec
        if reason == "tamper":
            self.tamper(current.exercise if current else None, attempt.tamper or "tampering")
        elif current is not None:
            nodeid, kind, since, exercise = (
                current.nodeid,
                current.kind,
                current.since,
                current.exercise,
            )
            shown = self._shown(exercise)
            if kind == "canary":
                self.tamper(exercise, "the canary test did not report back")
            elif kind == "probe" and reason == "timeout":
                self.lose_exercise(
                    exercise,
                    "timeout",
                    f"importing {shown} did not finish within {spec.limits.import_timeout:g} s"
                    " (an endless loop at import time?)",
                )
            elif kind == "probe":
                self.lose_exercise(
                    exercise,
                    "error",
                    f"the test process {_describe_exit(code)} while importing {shown}"
                    " (sys.exit, os._exit, or a crash at import time)",
                )
            elif reason == "timeout":
                limit = spec.limits.per_test_timeout
                self.lose_task(nodeid, "timeout", f"did not finish within {limit:g} s", since)
            else:
                self.lose_task(
                    nodeid,
                    "error",
                    f"the test process {_describe_exit(code)} during this test",
                    since,
                )
        elif not attempt.collected:
            self.runner.problems.append(
                f"the graded tests of {', '.join(self.exercises)} could not start"
                f" (the process {_describe_exit(code)})"
            )
            self.finished = True
        remaining = self.remaining()
        if attempt.collected and remaining and len(remaining) == attempt.owed:
            # Not one test settled this time: blame the next one rather than retry forever.
            self.settle(remaining[0], "error", "no result was reported for this test")

    def _shown(self, exercise: str | None) -> str:
        if exercise is None:
            return "the exercise file"
        return (
            f"{self.runner.spec.impl_folder.name}/{self.runner.spec.course.exercise(exercise).file}"
        )

    def drain(self, attempt: Attempt) -> None:
        while not attempt.eof:
            try:
                data = os.read(attempt.fd, 1 << 16)
            except BlockingIOError:
                break
            if not data:
                break
            for event in attempt.decoder.feed(data):
                self.handle(event)
        if attempt.decoder.problems and attempt.tamper is None:
            attempt.tamper = attempt.decoder.problems[0]

    def kill(self, attempt: Attempt) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(attempt.proc.pid, signal.SIGKILL)
        attempt.proc.wait()

    def close(self) -> None:
        attempt = self.attempt
        if attempt is None:
            return
        if not attempt.eof:
            self.runner.selector.unregister(attempt.fd)
        os.close(attempt.fd)
        self.attempt = None

    def next(self) -> None:
        self.close()
        guard = self.runner.spec.guard
        if guard is not None and (changed := guard()):
            self.runner.flags.append(Flag(None, f"kit files changed during grading: {changed}"))
            self.tamper(None, "kit files were changed during grading")
        remaining = self.remaining()
        if self.finished or not remaining or self.attempts > len(self.expected) + 2:
            for nodeid in remaining:
                self.settle(nodeid, "error", "no result was reported for this test")
            self.finished = True
            return
        self.spawn(remaining)

    def stop(self, message: str) -> None:
        if self.attempt is not None:
            self.kill(self.attempt)
            self.close()
        for nodeid in self.remaining():
            self.settle(nodeid, "timeout", message)
        self.finished = True


class Runner:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.nonce = secrets.token_hex(8)
        self.meta: dict[str, dict[str, Any]] = {}
        self.results: dict[str, TestResult] = {}
        self.flags: list[Flag] = []
        self.problems: list[str] = []
        self.import_errors: dict[str, str] = {}
        self.selector = selectors.DefaultSelector()
        self.own_scratch = spec.scratch is None
        self.scratch = spec.scratch or Path(
            tempfile.mkdtemp(prefix="stepup-run-", dir=scratch_root())
        )
        self.env = child_env(spec.kit_root, self.scratch)

    def lanes(self) -> list[Lane]:
        """Spread the exercises over ``shards`` lanes, heaviest first (weight: test count)."""
        weights = {
            e: sum(
                p.read_text(encoding="utf-8").count("\ndef test_") for p in self.spec.test_files(e)
            )
            for e in self.spec.collect
        }
        count = max(
            1, min(self.spec.shards, len([e for e in self.spec.collect if e in self.spec.run]))
        )
        groups: list[list[str]] = [[] for _ in range(count)]
        load = [0] * count
        for exercise in sorted(weights, key=lambda e: -(weights[e] if e in self.spec.run else 0)):
            lightest = load.index(min(load))
            groups[lightest].append(exercise)
            load[lightest] += weights[exercise] if exercise in self.spec.run else 0
        order = [e.id for e in self.spec.course.exercises]
        return [Lane(self, i, sorted(g, key=order.index)) for i, g in enumerate(groups) if g]

    def run(self) -> RunOutcome:
        deadline = time.monotonic() + self.spec.limits.overall_timeout
        lanes = self.lanes()
        for lane in lanes:
            lane.spawn(None)
        while active := [lane for lane in lanes if not lane.finished]:
            now = time.monotonic()
            if now >= deadline:
                limit = self.spec.limits.overall_timeout
                for lane in active:
                    lane.stop(f"not run: the overall time limit of {limit:g} s was reached")
                break
            for key, _ in self.selector.select(min(TICK, deadline - now)):
                key.data.read()
            now = time.monotonic()
            for lane in active:
                lane.tick(now)
        self.selector.close()
        order = [nodeid for lane in lanes for nodeid in lane.expected]
        exercise_order = [e.id for e in self.spec.course.exercises]
        order.sort(key=lambda n: exercise_order.index(self.meta[n]["exercise"]))
        listed = sorted(
            (m for m in self.meta.values() if m["exercise"] in exercise_order),
            key=lambda m: exercise_order.index(m["exercise"]),
        )
        output = self.output(lanes)
        if self.own_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
        return RunOutcome(
            [self.results[n] for n in order if n in self.results],
            self.flags,
            self.problems,
            output,
            listed,
            self.import_errors,
        )

    def output(self, lanes: list[Lane]) -> str:
        """The tail of every child's output, capped: enough to debug, never a flood."""
        cap = self.spec.limits.output_kb * 1024
        parts = []
        for lane in lanes:
            for log in lane.logs:
                with log.open("rb") as fh:
                    fh.seek(max(0, log.stat().st_size - cap))
                    parts.append(fh.read().decode("utf-8", "replace"))
        return "\n".join(parts)[-cap:]


def run(spec: RunSpec) -> RunOutcome:
    return Runner(spec).run()
