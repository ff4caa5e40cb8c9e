"""``stepup teach batch DIR``: every submission in DIR (one folder or zip each), N at a time,
each in its own worker process, with a progress bar and a gradebook CSV at the end."""

import csv
import io
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from course_kit.kit import KIT_ROOT
from course_kit.manifest import Limits, load_course
from course_kit.teach.grade import adapters, results
from course_kit.teach.grade.grade import grade
from course_kit.text import printable

GRADEBOOK = "gradebook.csv"


def submissions_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".zip")
    )


def grade_one(
    entry: Path, outdir: Path, formats: list[str], limits: Limits | None, kit_root: Path
) -> dict[str, Any]:
    """Grade one submission into ``outdir``; never raises (a crash becomes an error row)."""
    started = time.monotonic()
    try:
        found = grade(entry, load_course(kit_root), limits, shards=1)  # --jobs: the cores
    except Exception as exc:  # a grader bug must not cost the rest of the class their grades
        found = results.failed(
            load_course(kit_root),
            printable(entry.name),
            f"the grader failed on this submission: {type(exc).__name__}: {exc}",
            time.monotonic() - started,
        )
    adapters.write_all(found, outdir, formats, load_course(kit_root))
    return row(found)


def row(found: results.Results) -> dict[str, Any]:
    status = "error" if found.status == "error" else "flagged" if found.flagged else "ok"
    entry: dict[str, Any] = {
        "submission": found.submission,
        "status": status,
        "score": found.score,
        "max_score": found.max_score,
    }
    entry |= {e.id: e.score for e in found.exercises}
    reasons = [found.message] + [f.reason for f in found.flags]
    entry["message"] = "; ".join(r for r in reasons if r)
    return entry


def labels(entries: list[Path]) -> dict[Path, str]:
    """A distinct, printable name per submission: its results folder and gradebook row
    (``caf\\xe9`` and a folder literally named so become ``caf\\xe9`` and ``caf\\xe9~2``)."""
    taken: set[str] = set()
    names = {}
    for entry in entries:
        base = name = printable(entry.name)
        count = 1
        while name in taken or name in (GRADEBOOK, ""):
            count += 1
            name = f"{base}~{count}"
        taken.add(name)
        names[entry] = name
    return names


def cell(value: Any) -> Any:
    """A gradebook cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
    rows: dict[str, dict[str, Any]] = {}
    # spawn: workers start clean (no inherited threads), so the grading children they fork
    # with resource limits are forked from a single-threaded process.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        futures = {
            pool.submit(grade_one, e, outdir / names[e], formats, limits, kit_root): e
            for e in entries
        }
        for future in as_completed(futures):
            entry = futures[future]
            try:
                found = future.result()
            except Exception as exc:  # a worker that died: that row says so, the rest stand
                found = {
                    "submission": names[entry],
                    "status": "error",
                    "score": 0,
                    "max_score": load_course(kit_root).points,
                    "message": f"the grader failed on this submission: {type(exc).__name__}",
                }
            rows[entry.name] = found | {"submission": names[entry]}
            if on_done is not None:
                on_done(found)
    course = load_course(kit_root)
    columns = ["submission", "status", "score", "max_score", *[e.id for e in course.exercises]]
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, [*columns, "message"], restval="")
    writer.writeheader()
    for entry in entries:
        writer.writerow({key: cell(value) for key, value in rows[entry.name].items()})
    gradebook = outdir / GRADEBOOK
    adapters.write_atomic(gradebook, table.getvalue())
    return gradebook
