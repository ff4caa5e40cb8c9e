"""What refusing a hostile zip costs intake, next to what zipfile alone paid before.

Each measure runs in a fresh process (so peak memory is its own): the time of the operation
and how far it raised the process's peak resident memory above what the imports had already
taken. The archives are the hostile corpus's (``tests/grader/hostile_zips.py``): the committed
20 KB bomb (members that claim 2 KiB and inflate to 1 GiB with bzip2, 128 MiB with LZMA) and
500,000 empty members written for the run. ``python -m bench.intake`` or ``python -m bench
intake``.
"""

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.stats import Row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "grader"))  # the very archives the tests grade
import hostile_zips  # noqa: E402

MEASURE = """
import json, resource, sys, time, zipfile
from pathlib import Path
from course_kit.manifest import load_course
from course_kit.teach.grade.intake import SubmissionError, read_submission
course, path, how = load_course(), Path(sys.argv[1]), sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    if how == "intake":
        read_submission(path, course)
        said = "accepted"
    elif how == "zipfile-list":
        said = f"zipfile listed {len(zipfile.ZipFile(path).infolist()):,} members"
    else:  # what intake did before: open the member and read up to 1 MiB of it
        with zipfile.ZipFile(path) as archive, archive.open(archive.infolist()[0]) as fh:
            said = f"read {len(fh.read((1 << 20) + 1)):,} bytes"
except SubmissionError as exc:
    said = str(exc)
except Exception as exc:
    said = f"{type(exc).__name__}: {exc}"
seconds = time.perf_counter() - started
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"seconds": seconds, "kib": grown, "said": said}))
"""


def measure(path: Path, how: str, runs: int) -> tuple[float, int, str]:
    """Median seconds and peak memory growth (KiB) over ``runs`` fresh processes."""
    found = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), how],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(json.loads(done.stdout))
    seconds = statistics.median(f["seconds"] for f in found)
    return seconds, max(f["kib"] for f in found), found[0]["said"]


def figure(seconds: float, kib: int) -> str:
    time = f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"
    return f"{time}, +{kib / 1024:.1f} MiB peak"


def run(runs: int = 5, say: Callable[[str], None] = print) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        many = hostile_zips.write_many_members(Path(tmp) / "many.zip")
        cases = [
            ("500,000 members (44 MB)", many, "intake", "refused by intake"),
            ("500,000 members (44 MB)", many, "zipfile-list", "zipfile lists them (before)"),
            ("bomb (20 KB)", hostile_zips.BOMB, "intake", "refused by intake"),
            ("bomb (20 KB)", hostile_zips.BOMB, "zipfile-read", "bzip2 member read (before)"),
        ]
        for archive, path, how, what in cases:
            say(f"intake: {archive}, {what}")
            seconds, kib, said = measure(path, how, runs if how == "intake" else 2)
            rows.append(Row("intake", f"{archive}: {what}", figure(seconds, kib), said[:90]))
    return rows


if __name__ == "__main__":
    from bench.stats import render

    print(render(run(say=lambda m: print(f"... {m}", file=sys.stderr))))
