"""``python -m bench [PART ...] [--markdown] [--quick]``: run the benchmarks, print one table.

Parts: guard, confirm, rejection, freezegun, load, crash, slow, intake, suite (default: all).
``--quick`` takes fewer samples and shorter runs (a smoke run, not figures to publish).
"""

import argparse
import os
import sys

from bench import confirm, freeze, guard, intake, load, rejection, suite
from bench.machine import describe
from bench.stats import Row, render

PARTS = (
    "guard",
    "confirm",
    "rejection",
    "freezegun",
    "load",
    "crash",
    "slow",
    "intake",
    "suite",
)


def say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)}")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    parts = args.parts or list(PARTS)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    machine = describe()
    rows: list[Row] = []
    if "guard" in parts:
        rows += guard.run(
            rounds=2 if args.quick else 4, requests=200 if args.quick else 800, say=say
        )
        rows += guard.run_in_process(samples=300 if args.quick else 2000)
    if "confirm" in parts:
        rows += confirm.run(samples=5 if args.quick else 15, say=say)
    if "rejection" in parts:
        rows += rejection.run(samples=5 if args.quick else 15, say=say)
    if "freezegun" in parts:
        rows += freeze.run(samples=10 if args.quick else 30, say=say)
    if "load" in parts:
        sizes = (20,) if args.quick else (50, 100, 200)
        rows += load.run_load(sizes, seconds=10 if args.quick else 60, say=say)
    if "crash" in parts:
        rows += load.run_crash(
            size=20 if args.quick else 50,
            kills=2 if args.quick else 6,
            seconds=3 if args.quick else 5,
            say=say,
        )
    if "slow" in parts:
        rows += load.run_slow(connections=1100, descriptors=1024, say=say)
    if "intake" in parts:
        rows += intake.run(runs=3 if args.quick else 7, say=say)
    if "suite" in parts:
        rows += suite.run(say=say)
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    for name, value in machine:
        print(f"- {name}: {value}" if args.markdown else f"{name:>30}: {value}")
    after = "load average after the run"
    print(f"- {after}: {load_after}" if args.markdown else f"{after:>30}: {load_after}")
    print()
    print(render(rows, markdown=args.markdown))


if __name__ == "__main__":
    main()
