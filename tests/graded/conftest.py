"""Fixtures for the graded tests: the app with the implementation under test mounted."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course_app.impl import Implementation
from course_app.testing import Lab


@pytest.fixture
def make_lab(impl: Implementation, tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """``make_lab("ex01")``: a fresh app mounting only those exercises' routers."""
    labs: list[Lab] = []

    def make(*exercises: str, **overrides: object) -> Lab:
        lab = Lab.start(impl, list(exercises), folder=tmp_path / f"lab{len(labs)}", **overrides)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.close()
