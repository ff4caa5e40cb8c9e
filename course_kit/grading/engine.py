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
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from course_kit.grading.judge.subject import scratch_root
from course_kit.grading.outcome import Flag, RunOutcome, Score, TestResult, score
from course_kit.grading.sandbox.confine import detect
from course_kit.kit import graded_files
from course_kit.manifest import Course, Limits, load_course


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
    a judge and its process take turns (request, answer), so one pair keeps one core busy."""
    course = course or load_course()
    kit_root = course.root
    limits = limits or course.grading.limits
    ids = list(exercise_ids or course.ids)
    run = [e for e in (run_ids if run_ids is not None else ids) if e in ids]
    hidden = course.grading.hidden_dir if include_hidden else None
    # The grader's own folder; the judges make the submission processes' folders inside it,
    # so whatever happens to a judge, one rmtree here cleans everything up. A batch worker is
    # given a work root (STEPUP_WORK_ROOT) that its parent removes should the worker die.
    work_root = os.environ.get("STEPUP_WORK_ROOT") or scratch_root()
    private = Path(tempfile.mkdtemp(prefix="stepup-judge-", dir=work_root))
    private.chmod(0o711)  # a confined process as another user may pass through to its folder
    groups = spread(ids, run, shards, kit_root, hidden)
    mode = detect().mode  # probed once here, not again in every judge
    problems: list[str] = []
    try:
        judges = [
            start_judge(
                private / f"judge{n}", impl_folder, group, run, kit_root, hidden, limits, mode
            )
            for n, group in enumerate(groups)
        ]
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
        for n in range(len(groups)):
            part = read_outcome(private / f"judge{n}" / "judge.jsonl", course, run, problems)
            if not part.listed:
                log = (private / f"judge{n}" / "judge.log").read_text(errors="replace")
                outcome.problems.append("the graded tests did not run:\n" + log[-2000:])
            outcome.merge(part)
        outcome.listed.sort(key=lambda t: course.order(t["exercise"]))
        outcome.results.sort(key=lambda r: course.order(r.exercise))
    finally:
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
    folder: Path,
    impl_folder: Path,
    group: list[str],
    run: list[str],
    kit_root: Path,
    hidden: str | None,
    limits: Limits,
    mode: str,
) -> subprocess.Popen[bytes]:
    """``python -m course_kit.grading.judge`` for the exercises of ``group``, writing into
    ``folder``, confining the submission process as ``mode``."""
    folder.mkdir(mode=0o711)
    ran = [e for e in run if e in group]
    command = [sys.executable, "-m", "course_kit.grading.judge", f"--impl={impl_folder}"]
    command += [f"--out={folder / 'judge.jsonl'}", f"--collect={','.join(group)}"]
    command += [f"--run={','.join(ran)}", f"--limits={limits.model_dump_json()}"]
    command += [f"--confine={mode}"]
    if hidden:
        command.append(f"--hidden={hidden}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPUP_", "PYTEST_", "COV"))}
    env |= {
        "STEPUP_WORK_ROOT": str(folder),
        "PYTHONPATH": str(kit_root),
        "STEPUP_KIT_ROOT": str(kit_root),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # third-party plugins cost seconds to load
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    handle = os.open(folder / "judge.log", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(handle, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=kit_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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


def check(
    impl_folder: Path, exercise_ids: Sequence[str] | None = None, course: Course | None = None
) -> tuple[Score, str]:
    """The student's self-check: the visible graded tests, under the grader's own limits."""
    course = course or load_course()
    outcome = run_graded(impl_folder, exercise_ids, course)
    result = score(outcome.results, course, exercise_ids)
    for task_score in result.tasks:
        task_score.deferred = task_score.task.checked_when_graded
    result.flags = outcome.flags
    result.problems += outcome.problems
    if not outcome.results and not outcome.problems:
        result.problems.append("the graded tests did not run:\n" + outcome.output[-2000:])
    return result, outcome.output
