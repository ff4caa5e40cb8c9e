"""``make test`` split by part: pytest on each test folder in a process of its own, and the
lint step. Each part pays pytest's own start-up, so the parts add up to a little more than
one whole run."""

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.stats import Row

ROOT = Path(__file__).resolve().parent.parent
PARTS = {
    "tests/app": "API tests (reference app)",
    "tests/graded": "graded exercise tests",
    "tests/meta": "meta (twins, both directions)",
    "tests/grader": "grader",
    "tests/notebooks": "notebooks",
    "tests/browser": "browser (Chromium)",
    "tests/robustness": "robustness (CSRF, limits, audit, fuzz, load, faults)",
}
OUTCOME = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")
# Printed by tests/notebooks at the end of its run: "  12.3 s  01_email_change  (solutions)".
NOTEBOOK = re.compile(r"^\s*([\d.]+) s  (\S.*?)  \((\w+)\)$", re.MULTILINE)


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - started, done


def outcome(output: str) -> str:
    lines = [line for line in output.splitlines() if OUTCOME.search(line)]
    if not lines:
        return "no summary"
    return ", ".join(f"{n} {what}" for n, what in OUTCOME.findall(lines[-1]))


def run(say: Callable[[str], None] = print) -> list[Row]:
    bin_dir = Path(sys.executable).parent
    rows = []
    total = 0.0
    say("suite: lint")
    seconds, done = timed(
        ["sh", "-c", f"{bin_dir}/ruff format --check . && {bin_dir}/ruff check ."]
    )
    total += seconds
    lint = "clean" if done.returncode == 0 else "not clean"  # ruff is fast: two decimals
    rows.append(
        Row("make test", "lint (ruff format --check, ruff check)", f"{seconds:.2f} s", lint)
    )
    for folder, label in PARTS.items():
        if not (ROOT / folder).is_dir():
            rows.append(Row("make test", label, "n/a", f"{folder} does not exist yet"))
            continue
        say(f"suite: {folder}")
        seconds, done = timed([str(bin_dir / "pytest"), "-q", "-p", "no:cacheprovider", folder])
        total += seconds
        rows.append(
            Row("make test", f"{label} ({folder})", f"{seconds:.1f} s", outcome(done.stdout))
        )
        if folder == "tests/notebooks":
            rows += [
                Row(
                    "notebooks",
                    f"{name} ({impl})",
                    f"{float(sec):.1f} s",
                    "kernel start not counted",
                )
                for sec, name, impl in NOTEBOOK.findall(done.stdout)
            ]
    rows.append(Row("make test", "sum of the parts", f"{total:.1f} s", "one pytest run per part"))
    return rows
