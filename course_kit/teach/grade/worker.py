"""One submission of a batch, graded in a process of its own:
``python -m course_kit.teach.grade.worker SUBMISSION OUTDIR --kit-root … --limits … --format …``.

The batch starts one per submission in a session of its own, with a work root of its own
(``STEPUP_WORK_ROOT``) for every temporary folder. Its answer is the results folder it writes;
if it dies before writing one, the batch writes an error result for that row alone, ends
what it left running and removes its work root (:mod:`course_kit.teach.grade.batch`).
"""

import argparse
import time
from pathlib import Path

from course_kit.manifest import Limits, load_course
from course_kit.teach.grade import adapters, results
from course_kit.teach.grade.grade import grade
from course_kit.text import printable


def grade_into(entry: Path, outdir: Path, formats: list[str], limits: Limits, kit: Path) -> None:
    """Grade one submission into ``outdir``; a grader bug becomes an error result."""
    course = load_course(kit)
    started = time.monotonic()
    try:
        found = grade(entry, course, limits, shards=1)  # --jobs: the cores
    except Exception as exc:  # a grader bug must not cost the rest of the class their grades
        found = results.failed(
            course,
            printable(entry.name),
            f"the grader failed on this submission: {type(exc).__name__}: {exc}",
            time.monotonic() - started,
        )
    adapters.write_all(found, outdir, formats)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m course_kit.teach.grade.worker")
    parser.add_argument("submission", type=Path)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--kit-root", type=Path, required=True)
    parser.add_argument("--limits", required=True, help="the grading limits as JSON")
    parser.add_argument("--format", action="append", default=[], dest="formats")
    args = parser.parse_args()
    limits = Limits.model_validate_json(args.limits)
    grade_into(args.submission, args.outdir, args.formats, limits, args.kit_root)


if __name__ == "__main__":
    main()
