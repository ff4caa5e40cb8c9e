"""The pytest plugin (``-p course_app.grading.reporter``) of a graded test process.

Loaded before any test module, so before any student code: it reads the grader's control
message from an inherited pipe (see :mod:`course_app.grading.protocol`), installs the sandbox
policy, and then streams one signed record per test to the grader as the tests run, so a
process that hangs or dies still leaves every finished result behind.

It also shapes the run: tests go in manifest order, grouped by exercise and task; each
exercise starts with a *probe* that imports the student's file once (an import that fails,
exits or hangs is reported once for the whole exercise instead of once per test) and each task
ends with a *canary*, a test that must fail with a secret message: if it comes back passed or
changed, the reporting was tampered with.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from course_app.grading import policy
from course_app.grading.protocol import FDS_ENV, encode

# How pytest words the exception type before the message; a student reads the message.
PREFIXES = ("AssertionError: ", "Failed: ")


@dataclass(frozen=True)
class Meta:
    kind: str  # test | probe | canary
    exercise: str | None
    task: int | None
    name: str


class Channel:
    """The signed, sequenced line protocol towards the grader."""

    def __init__(self, fd: int, key: bytes) -> None:
        self._fd = fd
        self._key = key
        self._seq = 0

    def send(self, event: dict[str, Any]) -> None:
        line = encode(self._key, self._seq, event)
        self._seq += 1
        try:
            os.write(self._fd, line)
        except OSError:
            os._exit(3)  # the grader is gone: nobody is left to report to


def _connect() -> tuple[Channel, dict[str, Any]] | None:
    spec = os.environ.pop(FDS_ENV, None)
    if not spec:
        return None
    control_fd, results_fd = (int(part) for part in spec.split(","))
    with os.fdopen(control_fd, "rb") as fh:
        control = json.loads(fh.read())
    os.set_inheritable(results_fd, False)
    policy.install(control["writable"], control["unreadable"])
    return Channel(results_fd, bytes.fromhex(control["key"])), control


_connection = _connect()


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            for prefix in PREFIXES:
                line = line.removeprefix(prefix)
            return line[:500]
    return ""


class GradedRun:
    """The plugin object: registered only when the grader started this process."""

    def __init__(self, channel: Channel, control: dict[str, Any]) -> None:
        self.channel = channel
        self.nonce: str = control["nonce"]
        self.order: list[str] = control["exercises"]
        self.run: set[str] = set(control["run"])
        self.select: set[str] | None = set(control["select"]) if control["select"] else None
        self.meta: dict[str, Meta] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.broken: dict[str, str] = {}  # exercise → why its file could not be imported

    # --- collection: report everything, run the selection in manifest order -----------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        tests = []
        for item in items:
            marker = item.get_closest_marker("task")
            exercise, task = (marker.args[0], marker.args[1]) if marker else (None, None)
            self.meta[item.nodeid] = Meta("test", exercise, task, item.name)
            tests.append({"nodeid": item.nodeid, "name": item.name, "exercise": exercise})
            tests[-1]["task"] = task
        self.channel.send({"event": "collected", "tests": tests})

        chosen = [i for i in items if self._wanted(i)]
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = self._arrange(chosen, config)

    def _wanted(self, item: pytest.Item) -> bool:
        meta = self.meta[item.nodeid]
        in_selection = self.select is None or item.nodeid in self.select
        return meta.exercise in self.run and in_selection

    def _arrange(self, chosen: list[pytest.Item], config: pytest.Config) -> list[pytest.Item]:
        position = {exercise: i for i, exercise in enumerate(self.order)}
        chosen.sort(
            key=lambda i: (position[self.meta[i.nodeid].exercise], self.meta[i.nodeid].task)
        )
        arranged: list[pytest.Item] = []
        for index, item in enumerate(chosen):
            meta = self.meta[item.nodeid]
            previous = self.meta[chosen[index - 1].nodeid] if index else None
            if previous is None or previous.exercise != meta.exercise:
                arranged.append(self._synthetic(item, "probe", meta, self._probe(meta, config)))
            arranged.append(item)
            following = self.meta[chosen[index + 1].nodeid] if index + 1 < len(chosen) else None
            if following is None or (following.exercise, following.task) != (
                meta.exercise,
                meta.task,
            ):
                arranged.append(self._synthetic(item, "canary", meta, self._canary()))
        return arranged

    def _synthetic(
        self, neighbour: pytest.Item, kind: str, meta: Meta, function: Callable[[], None]
    ) -> pytest.Item:
        module = neighbour.getparent(pytest.Module)
        name = f"stepup_{kind}_{meta.exercise}" + (f"_task{meta.task}" if kind == "canary" else "")
        item = pytest.Function.from_parent(module, name=name, callobj=function)
        self.meta[item.nodeid] = Meta(kind, meta.exercise, meta.task, name)
        return item

    def _probe(self, meta: Meta, config: pytest.Config) -> Callable[[], None]:
        exercise_id = meta.exercise or ""
        spec = config.getoption("--impl")

        def stepup_probe() -> None:
            from course_app.impl import ImplementationError, resolve
            from course_app.manifest import load_course

            impl = resolve(spec)
            shown = impl.shown(load_course().exercise(exercise_id))
            try:
                impl.load(exercise_id)
            except ImplementationError as exc:
                message = str(exc)
            except SystemExit as exc:
                message = f"{shown} called sys.exit({exc.code!r}) while being imported"
            except BaseException as exc:  # KeyboardInterrupt, pytest.exit(): still just an import
                message = f"{shown} failed to import: {type(exc).__name__}: {exc}"
            else:
                return
            self.broken[exercise_id] = message[:500]
            pytest.fail(message, pytrace=False)

        return stepup_probe

    def _canary(self) -> Callable[[], None]:
        nonce = self.nonce

        def stepup_canary() -> None:
            raise AssertionError(f"canary {nonce}")

        return stepup_canary

    # --- running: one signed record per test, as it happens ----------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        meta = self.meta.get(item.nodeid)
        if meta is None or meta.kind != "test" or meta.exercise not in self.broken:
            return None
        # Every test imports the file afresh; one failed import speaks for all of them.
        self._start(item.nodeid)
        record = self.records.pop(item.nodeid) | {"status": "error"}
        self.channel.send(record | {"message": self.broken[meta.exercise]})
        # Skipping the normal protocol skips its teardown too: leave the setup stack as the
        # next item expects it (it may live in another module, e.g. the hidden tests).
        item.session._setupstate.teardown_exact(nextitem)
        return True

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._start(nodeid)

    def _start(self, nodeid: str) -> None:
        meta = self.meta.get(nodeid)
        if meta is not None:
            self.records[nodeid] = self._record(nodeid)
            start = {"event": "start", "nodeid": nodeid, "kind": meta.kind}
            self.channel.send(start | {"exercise": meta.exercise})

    def _record(self, nodeid: str) -> dict[str, Any]:
        meta = self.meta[nodeid]
        return {
            "event": "result",
            "nodeid": nodeid,
            "kind": meta.kind,
            "name": meta.name,
            "exercise": meta.exercise,
            "task": meta.task,
            "status": "not run",
            "message": "",
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is None or not (report.when == "call" or report.failed or report.skipped):
            return
        if report.failed:
            status = "fail" if report.when == "call" else "error"
        elif report.skipped:
            status = "skipped"
        else:
            status = "pass"
        if record["status"] in ("not run", "pass"):
            record["status"] = status
            record["message"] = _first_line(report) if status != "pass" else ""

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        record = self.records.pop(nodeid, None)
        if record is not None:
            self.channel.send(record)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.channel.send({"event": "done"})


def pytest_configure(config: pytest.Config) -> None:
    if _connection is not None:
        channel, control = _connection
        channel.send({"event": "hello", "pid": os.getpid()})
        config.pluginmanager.register(GradedRun(channel, control), "stepup-graded-run")
