"""Run the graded tests against an implementation and score them, task by task.

One engine for everyone: ``stepup check`` (a student at home), ``stepup teach grade`` (the
instructor) and the maintainers' both-directions test all call :func:`run_graded`. It starts the
judge (``python -m course_kit.grading.judge``, pytest over the graded tests) as a child process
that never imports the code under test; the judge drives one confined submission process
(:mod:`course_kit.grading.judge.subject`). This process only reads what the judge wrote into a
file the submission cannot reach, and enforces the overall time limit on both.
"""

import contextlib
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from course_kit.grading.judge.subject import scratch_root
from course_kit.grading.outcome import Flag, RunOutcome, Score, TestResult, score
from course_kit.grading.sandbox import cgroups
from course_kit.grading.sandbox.confine import MAX_PROCESSES, detect
from course_kit.kit import graded_files
from course_kit.manifest import Course, Limits, load_course

JUDGE_PROCESSES = 64  # the judge's threads and processes (uvicorn, pytest, its children)


@dataclass(frozen=True)
class GradingRun:
    """One run of the graded tests: what runs, against what, under which limits, and where."""

    course: Course
    impl_folder: Path
    run: list[str]  # exercises whose tests run (the others' are only listed)
    hidden: str | None  # the hidden tests' folder, when they run
    limits: Limits
    mode: str  # the confinement, probed once for all judges
    private: Path  # the grader's folder: the judges', and their submissions' inside them
    group: cgroups.Group | None  # the run's control group, when the machine has them


def run_graded(
    impl_folder: Path,
    exercise_ids: Sequence[str] | None = None,
    course: Course | None = None,
    *,
    run_ids: Sequence[str] | None = None,
    include_hidden: bool = False,
    limits: Limits | None = None,
    shards: int = 2,
) -> RunOutcome:
    """List the graded tests of ``exercise_ids`` (all by default) and run those of ``run_ids``
    (the same by default) against ``impl_folder``; hidden tests only when ``include_hidden``.

    The exercises are spread over ``shards`` judges, each with its own submission process:
    a judge and its process take turns (request, answer), so one pair keeps one core busy.
    Everything the run starts lives in one control group, limited to the judges' and the
    submissions' budgets together, and is killed when the run ends."""
    course = course or load_course()
    limits = limits or course.grading.limits
    ids = list(exercise_ids or course.ids)
    run = [e for e in (run_ids if run_ids is not None else ids) if e in ids]
    hidden = course.grading.hidden_dir if include_hidden else None
    groups = spread(ids, run, shards, course.root, hidden)
    # The grader's own folder; the judges make the submission processes' folders inside it,
    # so whatever happens to a judge, one rmtree here cleans everything up. A batch worker is
    # given a work root (STEPUP_WORK_ROOT) that its parent removes should the worker die.
    work_root = os.environ.get("STEPUP_WORK_ROOT") or scratch_root()
    private = Path(tempfile.mkdtemp(prefix="stepup-judge-", dir=work_root))
    private.chmod(0o711)  # a confined process as another user may pass through to its folder
    budget = (limits.judge_memory_mb + limits.memory_mb) * len(groups)
    group = cgroups.run_group(budget, (MAX_PROCESSES + JUDGE_PROCESSES) * len(groups))
    grading = GradingRun(course, impl_folder, run, hidden, limits, detect().mode, private, group)
    problems: list[str] = []
    try:
        judges = [start_judge(grading, n, exercises) for n, exercises in enumerate(groups)]
        deadline = time.monotonic() + limits.overall_timeout
        for judge in judges:
            try:
                judge.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                reached = f"the overall time limit of {limits.overall_timeout:g} s was reached"
                problems[:] = [reached]
        for judge in judges:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(judge.pid, signal.SIGKILL)  # its submission process dies with it
            judge.wait()
        outcome = RunOutcome([], problems=problems)
        for n, judge in enumerate(judges):
            part = read_outcome(private / f"judge{n}" / "judge.jsonl", course, run, problems)
            if not part.listed:
                log = (private / f"judge{n}" / "judge.log").read_text(errors="replace")
                why = "the graded tests did not run"
                if judge.returncode == -signal.SIGKILL and group is not None and group.oom_kills():
                    why += f" (the judge ran out of its {limits.judge_memory_mb} MiB)"
                outcome.problems.append(f"{why}:\n" + log[-2000:])
            outcome.merge(part)
        outcome.listed.sort(key=lambda t: course.order(t["exercise"]))
        outcome.results.sort(key=lambda r: course.order(r.exercise))
        if group is not None:
            outcome.peak_memory, outcome.memory_budget = group.peak_memory(), budget << 20
    finally:
        if group is not None:
            group.remove()  # whatever is left, detached children included
        shutil.rmtree(private, ignore_errors=True)
    return outcome


def spread(
    ids: list[str], run: list[str], shards: int, kit_root: Path, hidden: str | None
) -> list[list[str]]:
    """Exercises in at most ``shards`` groups of about equal work (tests run), heaviest first."""

    def weight(exercise: str) -> int:
        files = graded_files(kit_root, [exercise], hidden)
        return sum(p.read_text(encoding="utf-8").count("\ndef test_") for p in files)

    count = max(1, min(shards, len(run)))
    groups: list[list[str]] = [[] for _ in range(count)]
    load = [0] * count
    for exercise in sorted(ids, key=lambda e: -(weight(e) if e in run else 0)):
        lightest = load.index(min(load))
        groups[lightest].append(exercise)
        load[lightest] += weight(exercise) if exercise in run else 0
    return [g for g in groups if g]


def start_judge(
    grading: GradingRun, n: int, exercises: list[str], serve: bool = False
) -> subprocess.Popen[bytes]:
    """``python -m course_kit.grading.judge`` for ``exercises``, writing into its own folder,
    in a control group of its own (or under an address-space limit), confining the submission
    process as the run says. ``serve``: it stays, taking requests on stdin (``WarmJudge``)."""
    folder = grading.private / f"judge{n}"
    folder.mkdir(mode=0o711)
    ran = [e for e in grading.run if e in exercises]
    limits = grading.limits
    command = [sys.executable, "-m", "course_kit.grading.judge", f"--impl={grading.impl_folder}"]
    command += [f"--out={folder / 'judge.jsonl'}", f"--collect={','.join(exercises)}"]
    command += [f"--run={','.join(ran)}", f"--limits={limits.model_dump_json()}"]
    command += [f"--confine={grading.mode}"]
    if grading.hidden:
        command.append(f"--hidden={grading.hidden}")
    if serve:
        command.append("--serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPUP_", "PYTEST_", "COV"))}
    kit_root = grading.course.root
    env |= {
        "STEPUP_WORK_ROOT": str(folder),
        "PYTHONPATH": str(kit_root),
        "STEPUP_KIT_ROOT": str(kit_root),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # third-party plugins cost seconds to load
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",  # glibc arenas would eat an address-space limit
    }
    group = None
    if grading.group is not None:
        env[cgroups.ENV_VAR] = grading.group.to_env()  # its submission processes' groups go there
        with contextlib.suppress(OSError):  # refused: the address-space limit below instead
            group = grading.group.child(f"judge{n}", limits.judge_memory_mb, JUDGE_PROCESSES)
    memory = limits.judge_memory_mb << 20

    def limited() -> None:  # between fork and exec, in the judge's process
        if group is not None:
            group.join()
        else:  # no control group here: an address-space limit is the next best thing
            resource.setrlimit(resource.RLIMIT_AS, (memory * 2, memory * 2))

    handle = os.open(folder / "judge.log", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(handle, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=kit_root,
            env=env,
            stdin=subprocess.PIPE if serve else subprocess.DEVNULL,
            stdout=subprocess.PIPE if serve else log,
            stderr=log if serve else subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=limited,
        )


def read_outcome(path: Path, course: Course, run: list[str], problems: list[str]) -> RunOutcome:
    """Turn the judge's lines into an outcome; a test that never reported did not pass."""
    outcome = RunOutcome([], problems=list(problems))
    results: dict[str, TestResult] = {}
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for line in text.splitlines():
        event = json.loads(line)
        kind = event.pop("event")
        if kind == "collected":
            outcome.listed = event["tests"]
        elif kind == "result":
            results[event["nodeid"]] = TestResult.from_event(event)
        elif kind == "subject":
            outcome.import_errors = event["broken"]
            outcome.output = event["output"]
            outcome.confinement = event["confinement"]
            outcome.flags += [
                Flag(exercise, f"the submission wrote {what} on the grader's channel")
                for exercise, what in event["violations"]
            ]
    why = "not run: " + (problems[0] if problems else "no result was reported for this test")
    for test in outcome.listed:
        if test["exercise"] in run and test["nodeid"] not in results:
            results[test["nodeid"]] = TestResult(
                **test,
                status="timeout" if problems else "error",
                message=why,
                cause="timeout" if problems else "not_run",
            )
    for flag in outcome.flags:  # tampering earns nothing: the exercise, or all if unknown
        for result in results.values():
            if flag.exercise in (None, result.exercise):
                result.status, result.cause = "error", "flagged"
                result.message = f"not graded: {flag.reason} (flagged for the instructor)"
    outcome.results = sorted(results.values(), key=lambda r: course.order(r.exercise))
    return outcome


class WarmJudge:
    """One judge kept between checks, for ``stepup watch`` and warm checks: pytest stays
    loaded, and the next check's submission process boots (imports FastAPI and the app, not
    the student's files) while the student edits; at the check it imports the files as they
    are now, so nothing of an earlier version reaches it. A judge that dies or runs past the
    overall limit is replaced by a fresh one at the next check."""

    def __init__(self, impl_folder: Path, course: Course | None = None) -> None:
        self.impl_folder, self.course = impl_folder, course or load_course()
        self.checks = 0
        self.judge: subprocess.Popen[bytes] | None = None
        self.grading: GradingRun | None = None

    def start(self) -> tuple[GradingRun, subprocess.Popen[bytes]]:
        """Start the judge and its submission process (the first check does it anyway)."""
        limits = self.course.grading.limits
        private = Path(tempfile.mkdtemp(prefix="stepup-watch-", dir=scratch_root()))
        private.chmod(0o711)
        group = cgroups.run_group(limits.judge_memory_mb + limits.memory_mb, 2 * MAX_PROCESSES)
        mode = detect().mode
        self.grading = GradingRun(
            self.course, self.impl_folder, self.course.ids, None, limits, mode, private, group
        )
        self.judge = start_judge(self.grading, 0, self.course.ids, serve=True)
        return self.grading, self.judge

    def check(self, exercise_ids: Sequence[str] | None = None) -> tuple[Score, str]:
        """The visible graded tests of ``exercise_ids`` (all by default), their files
        imported as they are now."""
        ids = list(exercise_ids or self.course.ids)
        out, problems = self.run(ids)
        outcome = read_outcome(out, self.course, ids, problems)
        return at_home(outcome, self.course, ids), outcome.output

    def run(self, ids: Sequence[str]) -> tuple[Path, list[str]]:
        """Run the tests of ``ids``: the judge's lines (for :func:`read_outcome`), and what
        went wrong around them."""
        if self.judge is None or self.grading is None or self.judge.poll() is not None:
            self.close()  # a judge that died leaves its folder and control group behind
            grading, judge = self.start()
        else:
            grading, judge = self.grading, self.judge
        self.checks += 1
        out = grading.private / "judge0" / f"check{self.checks}.jsonl"
        request = {"run": list(ids), "out": str(out)}
        problems = []
        assert judge.stdin is not None and judge.stdout is not None
        try:
            judge.stdin.write(json.dumps(request).encode() + b"\n")
            judge.stdin.flush()
            problem = _answered(judge, grading.limits.overall_timeout)
            if problem:
                problems.append(problem)
        except OSError:
            problems.append("the graded tests did not run: the judge stopped")
        if problems:
            self.close()
        return out, problems

    def close(self) -> None:
        judge, grading, self.judge, self.grading = self.judge, self.grading, None, None
        if judge is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(judge.pid, signal.SIGKILL)
            judge.wait()
        if grading is not None:
            if grading.group is not None:
                grading.group.remove()
            shutil.rmtree(grading.private, ignore_errors=True)


def _answered(judge: subprocess.Popen[bytes], limit: float) -> str | None:
    """Wait at most ``limit`` seconds for the judge's ``done``; what went wrong, if anything."""
    assert judge.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(judge.stdout, selectors.EVENT_READ)
        if not selector.select(limit):
            return f"the overall time limit of {limit:g} s was reached"
    if judge.stdout.readline().strip() != b"done":
        return "the graded tests did not run: the judge stopped"
    return None


def check(
    impl_folder: Path, exercise_ids: Sequence[str] | None = None, course: Course | None = None
) -> tuple[Score, str]:
    """The student's self-check: the visible graded tests, under the grader's own limits."""
    course = course or load_course()
    outcome = run_graded(impl_folder, exercise_ids, course)
    return at_home(outcome, course, exercise_ids), outcome.output


def at_home(outcome: RunOutcome, course: Course, exercise_ids: Sequence[str] | None) -> Score:
    """The score a student sees: a task only hidden tests can judge claims no points."""
    result = score(outcome.results, course, exercise_ids)
    for task_score in result.tasks:
        task_score.deferred = task_score.task.checked_when_graded
    result.flags = outcome.flags
    result.problems += outcome.problems
    if not outcome.results and not outcome.problems:
        result.problems.append("the graded tests did not run:\n" + outcome.output[-2000:])
    return result
