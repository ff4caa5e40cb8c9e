"""``python -m course_app.grading``: the judge (see :mod:`course_app.grading.judge`).

The submission process is started first, before pytest is even imported, so that it imports
the student's files and boots its app while the judge loads and collects the graded tests.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from course_app.grading.config import Limits
from course_app.grading.confine import MODES, Confinement
from course_app.grading.subject import PRELAUNCHED, Subject


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m course_app.grading")
    parser.add_argument("--impl", required=True, help="the exercise files under test")
    parser.add_argument("--out", required=True, help="the JSON-lines file to write")
    parser.add_argument("--collect", required=True, help="exercise ids whose tests are listed")
    parser.add_argument("--run", default="", help="exercise ids whose tests are run")
    parser.add_argument("--hidden", default="", help="the hidden tests' folder, to include them")
    parser.add_argument("--limits", default="", help="grading limits as JSON")
    parser.add_argument("--confine", choices=MODES, required=True, help="as the grader probed")
    return parser.parse_args(argv)


def main() -> int:
    args = parse(sys.argv[1:])
    run = [e for e in args.run.split(",") if e]
    if run:
        limits = Limits.from_json(args.limits) if args.limits else Limits()
        subject = Subject(Path(args.impl), run, limits, confinement=Confinement(args.confine))
        subject.launch()
        PRELAUNCHED.append(subject)
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    from course_app.grading import judge  # pytest comes with it: after the launch

    return judge.main(args)


if __name__ == "__main__":
    sys.exit(main())
