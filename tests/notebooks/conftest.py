"""The notebook runner for this folder, and a report of how long each notebook took (kernel
start not counted) at the end of the session. Times are reported, never asserted."""

from collections.abc import Iterator

import pytest
from notebook_runs import IMPLS, Runner

_runners: list[Runner] = []


@pytest.fixture(scope="session")
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    wanted = [
        (item.callspec.params["notebook"], item.callspec.params["impl"])
        for item in request.session.items
        if hasattr(item, "callspec") and {"notebook", "impl"} <= set(item.callspec.params)
    ]
    runner = Runner(wanted)
    _runners.append(runner)
    yield runner
    runner.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    runs = {key: done for runner in _runners for key, done in runner.done.items()}
    if not runs:
        return
    terminalreporter.section(
        "notebook execution times (two kernels at once; kernel start not counted)"
    )
    for impl in IMPLS:
        mine = sorted((name, done) for (name, which), done in runs.items() if which == impl)
        for name, done in mine:
            again = f", then {done.again_seconds:.1f} s run again" if done.again else ""
            terminalreporter.write_line(f"{done.seconds:6.1f} s  {name}  ({impl}{again})")
        if mine:
            total = sum(done.seconds for _, done in mine)
            terminalreporter.write_line(f"{total:6.1f} s  all {len(mine)} notebooks ({impl})")
