"""The robustness tests: attacks (CSRF, guessing), bad input from a fuzzer, load on a real
server, and faults (a read-only or full database, broken cookies, a clock that jumps back)."""

import pytest
from robustness_helpers import FUZZ


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = FUZZ.lines()
    if lines:
        terminalreporter.section("OpenAPI fuzzing")
        for line in lines:
            terminalreporter.write_line(line)
