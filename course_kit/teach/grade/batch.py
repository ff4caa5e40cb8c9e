"""``stepup teach batch DIR``: every submission in DIR (one folder or zip each), N at a time,
each in a worker process of its own (:mod:`course_kit.teach.grade.worker`), with a progress
bar; at the end a gradebook CSV whose ``message`` names the first thing each row lost, and the
class report (:mod:`course_kit.teach.report.write`).

A worker that dies (the out-of-memory killer's ``SIGKILL``, a crash) costs its own row only:
that row gets an error result saying so, and the batch ends what the worker left running
(:class:`~course_kit.teach.grade.reaper.Reaper`) and removes its work root, a folder the batch
made for it and owns.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import course_kit
from course_kit.grading.judge.subject import scratch_root
from course_kit.grading.sandbox import cgroups
from course_kit.kit import KIT_ROOT
from course_kit.manifest import Course, Limits, load_course
from course_kit.teach.grade import adapters, results
from course_kit.teach.grade.explain import first_loss
from course_kit.teach.grade.reaper import Reaper, adopting_orphans
from course_kit.teach.grade.spreadsheet import csv_text
from course_kit.teach.report.write import REPORT_FILES, write_report
from course_kit.text import printable

GRADEBOOK = "gradebook.csv"
RESERVED = {GRADEBOOK, "", *REPORT_FILES}  # names a submission's results folder must not take


def submissions_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".zip")
    )


def row(found: results.Results) -> dict[str, Any]:
    status = "error" if found.status == "error" else "flagged" if found.flagged else "ok"
    entry: dict[str, Any] = {
        "submission": found.submission,
        "status": status,
        "score": found.score,
        "max_score": found.max_score,
    }
    entry |= {e.id: e.score for e in found.exercises}
    entry["message"] = first_loss(found)
    return entry


def labels(entries: list[Path]) -> dict[Path, str]:
    """A distinct, printable name per submission: its results folder and gradebook row
    (``caf\\xe9`` and a folder literally named so become ``caf\\xe9`` and ``caf\\xe9~2``)."""
    taken: set[str] = set()
    names = {}
    for entry in entries:
        base = name = printable(entry.name)
        count = 1
        while name in taken or name in RESERVED:
            count += 1
            name = f"{base}~{count}"
        taken.add(name)
        names[entry] = name
    return names


@dataclass
class Worker:
    """One submission being graded by a ``worker`` process, in a work root of its own."""

    entry: Path
    label: str
    outdir: Path
    root: Path
    process: subprocess.Popen[bytes]
    last_words: str = ""  # the last line the worker wrote, read before its root goes

    @classmethod
    def start(
        cls, entry: Path, label: str, outdir: Path, formats: list[str], limits: Limits, kit: Path
    ) -> "Worker":
        root = Path(tempfile.mkdtemp(prefix="stepup-batch-", dir=scratch_root()))
        root.chmod(0o711)  # a confined submission, another user, passes through to its folder
        # A results file left from an earlier batch must not pass for this one's.
        (outdir / adapters.CANONICAL).unlink(missing_ok=True)
        command = [sys.executable, "-m", "course_kit.teach.grade.worker"]
        command += [str(entry.resolve()), str(outdir.resolve()), f"--kit-root={kit}"]
        command += [f"--limits={limits.model_dump_json()}", *[f"--format={f}" for f in formats]]
        package_parent = str(Path(course_kit.__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
        env = os.environ | {"STEPUP_WORK_ROOT": str(root), "PYTHONPATH": path}
        with (root / "worker.log").open("wb") as log:
            process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its group is ended with it, whatever it left
            )
        return cls(entry, label, outdir, root, process)

    def finish(
        self, reaper: Reaper, course: Course, formats: list[str], keep: list[int]
    ) -> results.Results:
        """End what it left running, remove its work root, and read its results (an error
        result, written now, if it died before writing them)."""
        code = self.process.wait()
        self.clean_up(reaper, keep)
        try:
            text = (self.outdir / adapters.CANONICAL).read_text(encoding="utf-8")
            return results.Results.model_validate_json(text)
        except (OSError, ValueError):
            pass
        last_words = self.last_words
        why = _death(code) + (f": {last_words}" if last_words else "")
        found = results.failed(course, self.label, f"the grader's worker {why}", 0.0)
        adapters.write_all(found, self.outdir, formats)
        return found

    def clean_up(self, reaper: Reaper, keep: list[int]) -> None:
        reaper.end_group(self.process.pid)
        reaper.sweep(keep)
        for group in cgroups.left_by(self.process.pid):  # a dead worker's run: its cgroups
            group.remove()
        self.last_words = _last_line(self.root / "worker.log")
        shutil.rmtree(self.root, ignore_errors=True)


def _death(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
        out_of_memory = " (as the out-of-memory killer does)" if code == -signal.SIGKILL else ""
        return f"was killed by {name}{out_of_memory} before writing results"
    return f"exited with code {code} before writing results"


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return printable(lines[-1])[:300] if lines else ""


def grade_batch(
    folder: Path,
    outdir: Path,
    jobs: int,
    formats: list[str],
    limits: Limits | None = None,
    kit_root: Path = KIT_ROOT,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Grade every submission of ``folder``; write ``outdir/<name>/…`` and the gradebook."""
    entries = submissions_in(folder)
    names = labels(entries)
    outdir.mkdir(parents=True, exist_ok=True)
    course = load_course(kit_root)
    limits = limits or course.grading.limits
    rows: dict[Path, dict[str, Any]] = {}
    waiting, running = list(entries), list[Worker]()
    with adopting_orphans() as reaper:
        try:
            while waiting or running:
                while waiting and len(running) < max(1, jobs):
                    entry = waiting.pop(0)
                    target = outdir / names[entry]
                    target.mkdir(exist_ok=True)
                    running.append(
                        Worker.start(entry, names[entry], target, formats, limits, kit_root)
                    )
                done = [w for w in running if w.process.poll() is not None]
                if not done:
                    time.sleep(0.05)  # rows take seconds each: a glance every 50 ms is enough
                    continue
                for worker in done:
                    running.remove(worker)
                    keep = [w.process.pid for w in running]
                    found = worker.finish(reaper, course, formats, keep)
                    rows[worker.entry] = row(found) | {"submission": worker.label}
                    if on_done is not None:
                        on_done(rows[worker.entry])
        finally:  # interrupted: end every worker still running, and its work
            for worker in running:
                worker.process.kill()
                worker.process.wait()
                worker.clean_up(reaper, keep=[])
    columns = ["submission", "status", "score", "max_score", *[e.id for e in course.exercises]]
    gradebook = outdir / GRADEBOOK
    adapters.write_atomic(gradebook, csv_text([*columns, "message"], [rows[e] for e in entries]))
    if entries:
        write_report(outdir)
    return gradebook
