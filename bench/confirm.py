"""What a confirmation costs the person in the dialog, by bcrypt cost factor.

``POST /auth/confirm`` end to end over HTTP (a fresh target process per cost factor), next to
``bcrypt.checkpw`` alone: the difference is the rest of the request (session lookup, the
transaction, the token rotation, the audit entry).
"""

import time
from collections.abc import Callable
from contextlib import closing

import bcrypt

from bench.server import PASSWORD, person, target
from bench.stats import Row, percentile

ROUNDS = (4, 10, 12)


def checkpw_seconds(rounds: int, samples: int) -> list[float]:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        bcrypt.checkpw(PASSWORD.encode(), hashed)
        times.append(time.perf_counter() - started)
    return times


def confirm_seconds(rounds: int, samples: int) -> list[float]:
    with (
        target(rounds=rounds) as app,
        closing(person(app.url, "bench@example.com", confirmed=False)) as client,
    ):
        times = []
        for _ in range(samples + 1):  # the first one warms up
            started = time.perf_counter()
            r = client.post("/auth/confirm", json={"password": PASSWORD})
            times.append(time.perf_counter() - started)
            r.raise_for_status()
        return times[1:]


def run(samples: int = 15, say: Callable[[str], None] = print) -> list[Row]:
    rows = []
    for rounds in ROUNDS:
        say(f"confirm: bcrypt {rounds}")
        http = confirm_seconds(rounds, samples)
        raw = checkpw_seconds(rounds, samples)
        rows.append(
            Row(
                "confirmation latency",
                f"POST /auth/confirm, bcrypt cost {rounds}",
                f"p50 {percentile(http, 50) * 1000:.1f} ms",
                f"p99 {percentile(http, 99) * 1000:.1f} ms; bcrypt.checkpw alone p50"
                f" {percentile(raw, 50) * 1000:.1f} ms; {samples} confirmations",
            )
        )
    return rows
