"""A pytest plugin (``-p course_app.grading.reporter``) that writes one JSON record per graded
test to the file named by ``STEPUP_RESULTS_FILE``: exercise, task, outcome, first message."""

import json
import os
from typing import Any

import pytest

RESULTS_ENV = "STEPUP_RESULTS_FILE"
_records: dict[str, dict[str, Any]] = {}


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("task")
        exercise, task = (marker.args[0], marker.args[1]) if marker else (None, None)
        _records[item.nodeid] = {
            "nodeid": item.nodeid,
            "name": item.name,
            "exercise": exercise,
            "task": task,
            "status": "not run",
            "message": "",
            "duration": 0.0,
        }


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = _records.get(report.nodeid)
    if record is None:
        return
    record["duration"] += report.duration
    if report.when == "call" or report.failed or report.skipped:
        if report.failed:
            status = "fail" if report.when == "call" else "error"
        elif report.skipped:
            status = "skipped"
        else:
            status = "pass"
        if record["status"] in ("not run", "pass"):
            record["status"] = status
            record["message"] = _first_line(report) if status != "pass" else ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(list(_records.values()), fh)
