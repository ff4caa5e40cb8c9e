"""Fuzzing the API from its own OpenAPI schema with schemathesis: every operation, as a
stranger and as a signed-in person who confirmed a moment ago.

Every generated request — schema-valid ones and deliberately broken ones (wrong types,
missing fields, odd strings, boundary values, undeclared methods) — must get an answer that:
is not a 5xx; has a documented status; has a body valid against the documented model and
content type; and, for a 405, an ``Allow`` header naming the path's real methods.

Checks left out, and why:
- ``positive_data_acceptance``: the schema gives shapes, not every rule. An address that is
  a string but not an address, or a password of 7 bytes, is schema-valid and still refused
  with 400 and a message — as it should be.

``STEPUP_FUZZ_EXAMPLES`` sets how many cases Hypothesis generates per operation and mode in
its fuzzing phase (default 12, about 20 s; ``make fuzz`` asks for 500). The examples and
coverage phases add their own cases on top. The summary at the end of the run counts them.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from robustness_helpers import FUZZ, SignedIn
from schemathesis.checks import positive_data_acceptance

from course_kit.lab import ORIGIN, Lab

EXAMPLES = int(os.environ.get("STEPUP_FUZZ_EXAMPLES", "12"))
LAB = Lab.start("solutions")
# The app serves only the host of its origin (DNS-rebinding guard): say it, as a browser would.
HOST = {"Host": urlsplit(ORIGIN).netloc}
schema = schemathesis.openapi.from_asgi("/openapi.json", LAB.app, headers=HOST)
PERSON = SignedIn(LAB)
BROWSER = {"Origin": ORIGIN} | HOST

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the tree; every run explores afresh
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    LAB.close()
    shutil.rmtree(Path(LAB.settings.db_path).parent, ignore_errors=True)


# Schema-valid is not rule-valid (a 7-byte password is a string): see the docstring.
EXCLUDED = [positive_data_acceptance]


def check(case: schemathesis.Case, mode: str, cookies: dict[str, str] | None = None) -> None:
    label = case.operation.label
    response = case.call_and_validate(headers=BROWSER, cookies=cookies, excluded_checks=EXCLUDED)
    FUZZ.count(mode, label, response.status_code)
    assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"


@schema.parametrize()
@fuzz_settings
def test_as_a_stranger(case: schemathesis.Case) -> None:
    check(case, "anonymous")


@schema.parametrize()
@fuzz_settings
def test_signed_in_and_recently_confirmed(case: schemathesis.Case) -> None:
    check(case, "signed in", PERSON.cookies())
