"""Fixtures for the reference-app tests: every test runs on the frozen clock, and people are
made through the real HTTP routes (``course_kit.lab.Lab``)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_helpers import ALICE, BOB, EVE, PASSWORD
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory

from course_kit.lab import Lab


@pytest.fixture(autouse=True)
def _frozen(clock: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Time stands still unless a test moves it: TOTP steps and windows never drift."""
    return clock


@pytest.fixture
def alice(lab: Lab) -> TestClient:
    """Alice, verified and signed in, not recently confirmed."""
    return lab.person(ALICE, PASSWORD)


@pytest.fixture
def bob(lab: Lab) -> TestClient:
    """Bob, another verified and signed-in person."""
    return lab.person(BOB, PASSWORD)


@pytest.fixture
def eve(lab: Lab) -> TestClient:
    """The attacker's own account: verified, signed in, knows her password."""
    return lab.person(EVE, PASSWORD)


@pytest.fixture
def acme(lab: Lab, alice: TestClient, bob: TestClient) -> int:
    """Alice owns Acme; Bob is a plain member."""
    org_id = lab.create_org(alice, "Acme")
    lab.add_member(alice, org_id, BOB)
    return org_id


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """``make_lab(cookie_secure=True)``: the reference app with other settings."""
    labs: list[Lab] = []

    def make(**overrides: object) -> Lab:
        labs.append(Lab.start(folder=tmp_path / f"lab{len(labs)}", **overrides))
        return labs[-1]

    yield make
    for lab in labs:
        lab.close()
