"""How long grading takes: ``python -m bench.grading [--runs N] [--batch N] [--jobs N]``.

1. One complete submission (the reference answers, copied as a student's), graded by
   ``stepup grade`` as a whole process (confinement included), N times: the median.
2. ``stepup check exNN`` for each exercise, as a student runs it (the reference answers, so
   every test runs to the end), N times each: the median.
3. A batch of distinct complete submissions with ``stepup teach batch --jobs``, and its
   ratio to one grade; then the class report of that batch, as a command and alone.
4. Side by side, in the same run: ``jupyter nbconvert --execute`` on one exercise notebook, what a
   notebook-based grader pays per submission, and the ratio.

Figures, never assertions (DEVELOPERS.md): they depend on the machine and on what else it runs,
so the load average is printed with them.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course

COURSE = load_course()
NOTEBOOK = KIT_ROOT / "notebooks" / "01_email_change.ipynb"


def complete_submission(folder: Path, tag: str = "") -> Path:
    """The reference answers as a student's ``exercises/``; ``tag`` makes each copy distinct."""
    (folder / "exercises").mkdir(parents=True)
    for exercise in COURSE.exercises:
        text = (KIT_ROOT / "solutions" / exercise.file).read_text(encoding="utf-8")
        (folder / "exercises" / exercise.file).write_text(text + f"# {tag}\n", encoding="utf-8")
    return folder


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return elapsed


def one_submission(work: Path, runs: int) -> tuple[list[float], dict]:
    submission = complete_submission(work / "one")
    command = [sys.executable, "-m", "course_kit.cli", "teach", "grade", str(submission)]
    times = [timed([*command, "-o", str(work / f"one-out-{n}")]) for n in range(runs)]
    results = json.loads((work / "one-out-0" / "stepup-results.json").read_text())
    return times, results


def checks(runs: int) -> dict[str, list[float]]:
    command = [sys.executable, "-m", "course_kit.cli", "check", "--impl", "solutions"]
    return {e.id: [timed([*command, e.id]) for _ in range(runs)] for e in COURSE.exercises}


def batch(work: Path, size: int, jobs: int) -> tuple[float, list[dict], Path]:
    inbox = work / "inbox"
    for n in range(size):
        complete_submission(inbox / f"student{n:03d}", tag=f"student {n}")
    out = work / "batch-out"
    command = [sys.executable, "-m", "course_kit.cli", "teach", "batch", str(inbox)]
    elapsed = timed([*command, "--jobs", str(jobs), "-o", str(out)])
    with (out / "gradebook.csv").open() as fh:
        return elapsed, list(csv.DictReader(fh)), out


def report(out: Path, runs: int) -> tuple[list[float], list[float]]:
    """The class report of a batch folder: ``stepup teach report`` as a whole process, and
    :func:`write_report` alone in this process (matplotlib already imported after the first)."""
    from course_kit.teach.report.write import write_report

    command = [sys.executable, "-m", "course_kit.cli", "teach", "report", str(out)]
    processes = [timed(command) for _ in range(runs)]
    alone = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        write_report(out)
        alone.append(time.perf_counter() - started)
    return processes, alone[1:]


def nbconvert(work: Path, runs: int) -> list[float]:
    jupyter = Path(sys.executable).parent / "jupyter"
    env = os.environ | {"STEPUP_IMPL": "solutions"}
    times = []
    for n in range(runs):
        out = work / f"nb-{n}"
        command = [str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOK)]
        times.append(timed([*command, "--output-dir", str(out)], env=env))
    return times


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs of the single grade")
    parser.add_argument("--batch", type=int, default=50, help="submissions in the batch")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    args = parser.parse_args()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {load}")
    from course_kit.grading.sandbox.confine import detect

    print(f"confinement of the submission process: {detect().mode}")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        times, results = one_submission(work, args.runs)
        tests = len(results["tests"])
        print(
            f"\none complete submission, whole `stepup grade` process ({args.runs} runs):"
            f"\n  median {median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f});"
            f" score {results['score']}/{results['max_score']}, {tests} tests"
        )
        notebook_times = nbconvert(work, args.runs)
        ratio = median(times) / median(notebook_times)
        print(
            f"\n`jupyter nbconvert --execute {NOTEBOOK.name}` (the same machine, same run):"
            f"\n  median {median(notebook_times):.2f} s for one exercise's notebook;"
            f" a whole grade takes {ratio:.2f} x that (target ≤ 0.25 x)"
        )
        print(f"\n`stepup check exNN` (--impl solutions, {args.runs} runs each):")
        for exercise_id, samples in checks(args.runs).items():
            print(f"  {exercise_id}: median {median(samples):.2f} s  (min {min(samples):.2f})")
        if args.batch:
            elapsed, rows, out = batch(work, args.batch, args.jobs)
            full = sum(1 for r in rows if int(r["score"]) == COURSE.points)
            print(
                f"\nbatch of {args.batch} distinct complete submissions, --jobs {args.jobs}"
                " (one worker process each, the class report included):"
                f"\n  {elapsed:.1f} s in all, {elapsed / args.batch:.2f} s per submission,"
                f" {elapsed / median(times):.1f} x one grade (target ≤ 20 x);"
                f" {full}/{len(rows)} graded full marks"
            )
            processes, alone = report(out, args.runs)
            print(
                f"\nclass report of those {args.batch} ({args.runs} runs):"
                f"\n  `stepup teach report`, whole process: median {median(processes):.2f} s;"
                f" write_report() alone: median {median(alone):.2f} s"
            )
        shutil.rmtree(work, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average after the run {load}")


if __name__ == "__main__":
    main()
