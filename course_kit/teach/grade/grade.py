"""``stepup teach grade``: one submission in, one canonical results file (and its adapters) out.

The submission's exercise files are copied, as bytes, into a folder of their own; the graded
tests (hidden ones included) run against them through the same engine as ``stepup check``,
whose submission process sees that folder and nothing else of the kit. Whatever the submission
does, the result is a valid results file: an "error" result with a plain message when nothing
could run, never a traceback.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from course_kit.grading.engine import run_graded
from course_kit.grading.outcome import RunOutcome, Status, TestResult, score
from course_kit.grading.sandbox.confine import PROBE_FAILURES, detect
from course_kit.manifest import Course, Limits, load_course
from course_kit.source import free_text, syntax_error
from course_kit.teach.grade import results
from course_kit.teach.grade.intake import SubmissionError, read_submission
from course_kit.text import printable


def unconfined_as_root() -> str | None:
    """Why grading must not start: root would run a stranger's code with no confinement. The
    message names what each confinement's probe met (a missing tool, or a confined user who
    cannot run this Python), so the fix is the right one."""
    if os.geteuid() != 0 or detect().mode != "none" or os.environ.get("STEPUP_CONFINE") == "none":
        return None
    failed = sorted(PROBE_FAILURES.items())
    causes = "; ".join(f"{mode}: {detail}" for mode, (_, detail) in failed)
    fixes = []
    if any(cause == "not installed" for _, (cause, _) in failed):
        fixes.append("install bubblewrap (apt-get install bubblewrap util-linux)")
    if any(cause == "cannot run" for _, (cause, _) in failed):
        fixes.append(
            "put Python and the kit where other users may read and run them"
            " (not under /root or a home folder of mode 0700)"
        )
    fixes.append("or set STEPUP_CONFINE=none to accept the risk")
    return (
        f"refusing to run a submission as root without confinement ({causes or 'no mode works'}):"
        f" {', '.join(fixes)}"
    )


def memory_note(outcome: RunOutcome) -> list[str]:
    """How much memory grading took, where control groups measured it."""
    if outcome.peak_memory is None or outcome.memory_budget is None:
        return []
    peak, budget = outcome.peak_memory >> 20, outcome.memory_budget >> 20
    return [f"memory: the grading processes peaked at {peak} MiB (budget {budget} MiB)"]


def grade(
    submission: Path,
    course: Course | None = None,
    limits: Limits | None = None,
    shards: int = 2,
) -> results.Results:
    """Grade ``submission`` (a folder or a zip) and return its results."""
    started = time.monotonic()
    course = course or load_course()
    config = course.grading
    name = printable(submission.name)
    common: dict[str, Any] = {"course": course, "submission": name}
    if refusal := unconfined_as_root():
        return results.failed(course, name, refusal, time.monotonic() - started)
    try:
        intake = read_submission(submission, course)
    except SubmissionError as exc:
        return results.failed(course, name, str(exc), time.monotonic() - started)

    messages: dict[str, str] = {}
    states: dict[str, results.ExerciseState] = {}
    runnable, broken = [], []
    for exercise in course.exercises:
        shown = str(exercise.path)
        content = intake.files.get(exercise.file)
        problem = syntax_error(shown, content) if content is not None else None
        if content is None:
            messages[exercise.id] = f"{shown} was not in the submission"
        elif problem:
            messages[exercise.id] = problem
            broken.append(exercise.id)
            states[exercise.id] = "broken"
        elif exercise.is_stub(content):
            # The pristine stubs earn nothing (tests/meta proves it): no need to run them. The
            # pin in course.toml, not the kit's working copy, says what "untouched" is.
            messages[exercise.id] = f"{shown} is the untouched starting stub"
            states[exercise.id] = "untouched"
        else:
            runnable.append(exercise.id)
    texts = [
        results.FreeText(
            exercise=exercise_id,
            variable=variable,
            text=free_text(intake.files[file], variable) if file in intake.files else None,
        )
        for exercise_id, variable in config.free_text.items()
        for file in [course.exercise(exercise_id).file]
    ]
    submitted = {e.id for e in course.exercises if e.file in intake.files}
    common |= {"submitted": submitted, "free_text": texts, "states": states}
    if not runnable and len(broken) == len(submitted):
        return results.failed(
            course,
            name,
            "nothing could be graded: "
            + "; ".join(messages[e.id] for e in course.exercises if e.id in submitted),
            time.monotonic() - started,
            submitted=submitted,
            free_text=texts,
            exercise_messages=messages,
            notes=intake.notes,
            states=states,
        )

    work_root = os.environ.get("STEPUP_WORK_ROOT")  # a batch worker's, removed if it dies
    folder = Path(tempfile.mkdtemp(prefix="stepup-submission-", dir=work_root)) / "exercises"
    folder.mkdir(mode=0o755)
    folder.parent.chmod(0o755)  # the submission process may run as another user
    for exercise in course.exercises:
        if exercise.id in runnable:
            (folder / exercise.file).write_bytes(intake.files[exercise.file])
    try:
        outcome = run_graded(
            folder,
            course=course,
            run_ids=runnable,
            include_hidden=True,
            limits=limits or config.limits,
            shards=shards,
        )
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)

    messages |= outcome.import_errors
    states |= dict.fromkeys(outcome.import_errors, "broken")
    for flag in outcome.flags:
        for exercise_id in [flag.exercise] if flag.exercise else runnable:
            messages[exercise_id] = f"flagged for the instructor: {flag.reason}"
    found = list(outcome.results)
    for test in outcome.listed:
        if test["exercise"] not in runnable:
            status: Status = "error" if test["exercise"] in broken else "fail"
            found.append(
                TestResult(
                    **test,  # as the judge listed it, visibility included
                    status=status,
                    message=messages[test["exercise"]],
                    cause="broken" if test["exercise"] in broken else "not_run",
                )
            )
    error = None
    if not outcome.listed or (runnable and not outcome.results):
        error = "the graded tests could not run: " + "; ".join(outcome.problems or ["no results"])
    return results.build(
        **common,
        score=score(found, course),
        results=found,
        exercise_messages=messages,
        flags=outcome.flags,
        notes=intake.notes
        + outcome.problems
        + [f"confinement: {outcome.confinement or 'none'}"]
        + memory_note(outcome),
        execution_time=time.monotonic() - started,
        error=error,
    )
