"""The judge: pytest over the graded tests (started as ``python -m course_app.grading``).

It never imports a student's file: the graded tests drive a submission process (see
``tests/graded/conftest.py``). What it writes is a JSON line per event into a file of the
grader's that the submission process cannot reach: first every collected test, then one
result per test as it ends (so an overall timeout still leaves the finished ones), then what
it learnt about the submission (files that could not be used, protocol violations, output).
"""

import argparse
import json
import os
import re
from typing import IO, Any

import pytest

from course_app.grading.submission import printable

# How pytest words an exception's type before its message; a student reads the message.
PREFIX = re.compile(
    r"^(?:\w+\.)*(?:AssertionError|Failed|Skipped|SubjectTimeout|SubjectCrashed|SubjectError"
    r"|ProtocolViolation|ExerciseBroken): "
)


def first_line(report: pytest.TestReport) -> str:
    """What a student reads: the first line of the failure, without the exception's name."""
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr or "")
    for line in text.splitlines():
        if line.strip():
            return PREFIX.sub("", line.strip())[:500]
    return ""


class Collector:
    """The pytest plugin: lists the tests, runs those of ``run``, records every outcome."""

    def __init__(self, out: IO[str], run: set[str], hidden_dir: str | None) -> None:
        self.out = out
        self.run = run
        self.hidden = hidden_dir.rstrip("/") + "/" if hidden_dir else None
        self.records: dict[str, dict[str, Any]] = {}

    def write(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        listed = []
        for item in items:
            marker = item.get_closest_marker("task")
            exercise, task = (marker.args[0], marker.args[1]) if marker else (None, None)
            visibility = (
                "hidden" if self.hidden and item.nodeid.startswith(self.hidden) else "visible"
            )
            self.records[item.nodeid] = {
                "nodeid": item.nodeid,
                "name": item.name,
                "exercise": exercise,
                "task": task,
                "visibility": visibility,
            }
            listed.append(self.records[item.nodeid])
        self.write({"event": "collected", "tests": listed})
        chosen = [i for i in items if self.records[i.nodeid]["exercise"] in self.run]
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is None or record.get("status", "pass") != "pass":
            return
        marked = dict(report.user_properties).get("stepup_status")
        if report.failed:
            status = marked or ("fail" if report.when == "call" else "error")
        elif report.skipped:
            status = "skipped"
        elif report.when == "call":
            status = "pass"
        else:
            return
        record["status"] = status
        record["message"] = printable(first_line(report)) if status != "pass" else ""
        record["duration"] = round(record.get("duration", 0) + report.duration, 3)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        record = self.records.get(nodeid)
        if record is not None and "status" in record:
            self.write({"event": "result", **record})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from course_app.grading.lab import SUBJECT

        subject = session.config.stash.get(SUBJECT, None)
        if subject is not None:
            self.write(
                {
                    "event": "subject",
                    "broken": {e: printable(m) for e, m in subject.broken.items()},
                    "violations": subject.violations,
                    "confinement": subject.confinement.mode,
                    "output": printable(subject.output(subject.limits.output_kb * 1024)),
                }
            )


def main(args: argparse.Namespace) -> int:
    from course_app.grading.engine import graded_files
    from course_app.manifest import KIT_ROOT

    collect, run = args.collect.split(","), [e for e in args.run.split(",") if e]
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
