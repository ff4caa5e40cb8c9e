"""Fixtures for every test, and the one place the implementation switch is read."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory

from course_kit.impl import ENV_VAR, Implementation, resolve
from course_kit.lab import Lab
from course_kit.timetravel import frozen_clock

# Every `stepup check` of the suite runs cold: a warm server (course_kit/student/warm.py) would
# outlive the test that started it. tests/grader/test_warm_check.py starts and stops its own.
os.environ["STEPUP_WARM"] = "0"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl",
        default=None,
        help=f"implementation under test: solutions, exercises or PATH (env {ENV_VAR}; "
        "default solutions)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"step-up lab implementation: {resolve(config.getoption('--impl')).label}"


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    return resolve(pytestconfig.getoption("--impl"))


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    """A frozen clock for the whole test; ``clock.tick(seconds)`` moves it."""
    with frozen_clock() as frozen:
        yield frozen


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """The reference app (solutions), fresh database file per test."""
    lab = Lab.start("solutions", folder=tmp_path)
    yield lab
    lab.close()
