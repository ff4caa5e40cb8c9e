"""``python -m course_app.grading``: the judge (see :mod:`course_app.grading.judge`).

The submission process is started first, before pytest is even imported, so that it imports
the student's files and boots its app while the judge loads and collects the graded tests.
"""

import json
import os
import sys
from pathlib import Path

from course_app.grading.config import Limits
from course_app.grading.subject import PRELAUNCHED, Subject


def main() -> int:
    from course_app.grading import judge  # parses cheaply; pytest comes with the next import

    args = judge.parse(sys.argv[1:])
    run = [e for e in args.run.split(",") if e]
    if run:
        limits = Limits(**json.loads(args.limits)) if args.limits else Limits()
        subject = Subject(Path(args.impl), run, limits)
        subject.launch()
        PRELAUNCHED.append(subject)
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return judge.main(args)


if __name__ == "__main__":
    sys.exit(main())
