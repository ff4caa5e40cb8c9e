"""The grading engine's targets, as ratios of one interleaved run: ``python -m bench.speed``.

Each round measures, one after the other, ``python -c "import course_app.app"`` (the yardstick:
what any use of the app costs), ``stepup check exNN`` for every exercise, cold
(``STEPUP_WARM=0``: new processes for the check) and warm (answered by the server an earlier
check left, ``course_kit/student/warm.py``; after a pause of ``PAUSE`` seconds, not counted,
as a student reads and edits between two checks), a save seen by
``stepup watch`` (the same pause first; a fresh process imports the saved file), a whole
``stepup teach grade``
and ``jupyter nbconvert --execute`` of notebook 01; the medians of the rounds give the ratios.
Interleaving keeps a busy moment of the machine from landing on one measure only. With
``--hostile``, the hostile corpus is graded too, and each case's peak memory (the whole process
tree, measured by the run's control group) is printed beside its budget.

Figures, never assertions (DEVELOPERS.md).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.grading import complete_submission
from course_kit.grading.engine import WarmJudge
from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course
from course_kit.student import warm

COURSE = load_course()
# Between two checks a student reads the report and edits: a warm check's fresh submission
# process boots meanwhile. Back to back, a check would wait for that boot too.
PAUSE = 3.0
COLD, WARM = os.environ | {warm.ENV_VAR: "0"}, os.environ | {warm.ENV_VAR: "1"}
NOTEBOOK = KIT_ROOT / "notebooks" / "01_email_change.ipynb"
HOSTILE = KIT_ROOT / "tests" / "grader" / "hostile"


def seconds(command: list[str], env: dict[str, str] | None = None, pause: float = 0) -> float:
    """How long ``command`` takes, after ``pause`` seconds of doing nothing (not counted)."""
    time.sleep(pause)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return time.perf_counter() - started


def rounds(work: Path, count: int) -> dict[str, list[float]]:
    stepup = [sys.executable, "-m", "course_kit.cli"]
    submission = complete_submission(work / "submission")
    folder = submission / "exercises"
    jupyter = str(Path(sys.executable).parent / "jupyter")
    measures: dict[str, Callable[[int], float]] = {
        "import course_app.app": lambda n: seconds([sys.executable, "-c", "import course_app.app"]),
        **{
            f"stepup check {e.id}, cold": (
                lambda n, e=e: seconds([*stepup, "check", "--impl", str(folder), e.id], COLD)
            )
            for e in COURSE.exercises
        },
        **{
            f"stepup check {e.id}, warm": (
                lambda n, e=e: seconds(
                    [*stepup, "check", "--impl", str(folder), e.id], WARM, pause=PAUSE
                )
            )
            for e in COURSE.exercises
        },
        "whole grade": lambda n: seconds(
            [*stepup, "teach", "grade", str(submission), "-o", str(work / f"grade{n}")]
        ),
        "nbconvert 01": lambda n: seconds(
            [
                jupyter,
                "nbconvert",
                "--execute",
                str(NOTEBOOK),
                "--to",
                "notebook",
                "--output-dir",
                str(work / f"nb{n}"),
            ],
            env=os.environ | {"STEPUP_IMPL": "solutions"},
        ),
    }
    found: dict[str, list[float]] = {name: [] for name in [*measures, "watch: a save"]}
    judge = WarmJudge(folder, COURSE)
    seconds([*stepup, "check", "--impl", str(folder), "ex04"], WARM)  # leaves a warm server
    try:
        judge.check()  # the first check boots the warm judge; saves are what a student waits for
        for n in range(count):
            for name, measure in measures.items():
                found[name].append(measure(n))
            for exercise in COURSE.exercises:
                time.sleep(PAUSE)
                (folder / exercise.file).touch()  # the student saves
                started = time.perf_counter()
                judge.check([exercise.id])
                found["watch: a save"].append(time.perf_counter() - started)
    finally:
        judge.close()
        warm.stop(folder, COURSE)
    return found


def hostile(work: Path) -> list[tuple[str, str]]:
    """(case, its memory note) for every hostile case graded here, each prepared as the
    hostile tests prepare it (honest parts, derived files, archives written now)."""
    sys.path.insert(0, str(KIT_ROOT / "tests" / "grader"))
    from grader_helpers import prepare

    from course_kit.teach.grade.grade import grade

    found = []
    for case in sorted(p for p in HOSTILE.iterdir() if (p / "case.toml").is_file()):
        notes = grade(prepare(case.name, work / "hostile")).notes
        memory = next((n for n in notes if n.startswith("memory: ")), "memory: not measured")
        found.append((case.name, memory))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hostile", action="store_true", help="peak memory of every case")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        found = rounds(Path(tmp), args.rounds)
        medians = {name: statistics.median(samples) for name, samples in found.items()}
        base = medians["import course_app.app"]
        for name, value in medians.items():
            print(f"  {name:28} median {value:6.2f} s  = {value / base:5.2f} x the import")
        for kind in ("cold", "warm"):
            checks = [v for k, v in medians.items() if k.startswith("stepup check") and kind in k]
            print(f"\nslowest {kind} check ÷ import: {max(checks) / base:.2f} x (target ≤ 1.5 x)")
        print(
            f"a save under watch ÷ import: {medians['watch: a save'] / base:.2f} x (target ≤ 0.5 x)"
        )
        grade_vs_nb = medians["whole grade"] / medians["nbconvert 01"]
        print(f"whole grade ÷ nbconvert of notebook 01: {grade_vs_nb:.2f} x (target ≤ 0.25 x)")
        if args.hostile:
            print("\nhostile cases, the grading processes' peak memory:")
            for name, memory in hostile(Path(tmp)):
                peak = re.sub(r"^memory: the grading processes ", "", memory)
                print(f"  {name:24} {peak}")
    print(f"load after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
