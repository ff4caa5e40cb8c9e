"""``python -m course_kit.grading.judge``: the judge (see :mod:`course_kit.grading.judge.plugin`).

The submission process is started first, before pytest is even imported, so that it imports
the student's files and boots its app while the judge loads and collects the graded tests.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from course_kit.grading.judge.subject import KEPT, PRELAUNCHED, Subject
from course_kit.grading.sandbox.confine import MODES, Confinement
from course_kit.manifest import Limits


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m course_kit.grading.judge")
    parser.add_argument("--impl", required=True, help="the exercise files under test")
    parser.add_argument("--out", required=True, help="the JSON-lines file to write")
    parser.add_argument("--collect", required=True, help="exercise ids whose tests are listed")
    parser.add_argument("--run", default="", help="exercise ids whose tests are run")
    parser.add_argument("--hidden", default="", help="the hidden tests' folder, to include them")
    parser.add_argument("--limits", default="", help="grading limits as JSON")
    parser.add_argument("--confine", choices=MODES, required=True, help="as the grader probed")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="stay: run the tests again for every request line on stdin (stepup watch)",
    )
    return parser.parse_args(argv)


def main() -> int:
    args = parse(sys.argv[1:])
    run = [e for e in args.run.split(",") if e]
    if run:
        limits = Limits.model_validate_json(args.limits) if args.limits else Limits()
        subject = Subject(Path(args.impl), run, limits, confinement=Confinement(args.confine))
        subject.deferred = args.serve  # each check of a kept judge imports the files it runs
        subject.launch()
        (KEPT if args.serve else PRELAUNCHED).append(subject)
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    if args.serve:
        return serve(args)
    return judge(args, run)


def serve(args: argparse.Namespace) -> int:
    """``stepup watch``'s and the warm checks' judge: one request per line on stdin,
    ``{"run": [ids], "out": path}``. Each check gets a fresh submission process, booted
    while the student was editing, that imports the files of ``run`` as they are now; the
    tests of ``run`` run into ``out``, and ``done`` is written on stdout."""
    subject = KEPT[0]
    replies = os.fdopen(os.dup(1), "w")  # pytest prints on stdout: it goes to the log instead
    os.dup2(2, 1)
    try:
        for line in sys.stdin:
            request = json.loads(line)
            subject.violations.clear()  # what one check found, not the ones before
            subject.reload(request["run"])
            request_args = argparse.Namespace(**vars(args))
            request_args.out, request_args.collect = request["out"], ",".join(request["run"])
            judge(request_args, request["run"])
            replies.write("done\n")
            replies.flush()
            subject.renew()
    finally:
        subject.close()
    return 0


def judge(args: argparse.Namespace, run: list[str]) -> int:
    """pytest over the graded tests of ``--collect``, running those of ``--run``."""
    import pytest  # after the launch: the submission process boots meanwhile

    from course_kit.grading.judge.plugin import Collector
    from course_kit.kit import KIT_ROOT, graded_files

    collect = args.collect.split(",")
    files = [str(p) for p in graded_files(KIT_ROOT, collect, args.hidden or None)]
    handle = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the grader's only
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        collector = Collector(out, set(run), args.hidden or None)
        options = ["-q", "--no-header", "-p", "no:cacheprovider", "--tb=short"]
        options += [f"--impl={args.impl}", f"--stepup-exercises={','.join(run) or '-'}"]
        if args.limits:
            options.append(f"--stepup-limits={args.limits}")
        code = pytest.main([*options, *files], plugins=[collector])
    return 0 if code in (0, 1, 5) else int(code)


if __name__ == "__main__":
    sys.exit(main())
