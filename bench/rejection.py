"""What a wrong password costs to reject, for an account and for an unknown address, after
``STEPUP_BCRYPT_ROUNDS`` was lowered (issue 18: 12 → 4 made an existing account's rejection
about ten times slower than an unknown address's, which tells the accounts apart).

Over HTTP (``bench.target``): a database whose hashes were made at 12, served at 12 and then
at 4. For comparison, the rule before issue 18 in process: the dummy work at the *current*
cost (``verify_password(..., rounds=4)``), as the sign-in route called it then.
"""

import time
from collections.abc import Callable
from pathlib import Path

import bcrypt

from bench.server import PASSWORD, browser, person, target
from bench.stats import Row, percentile
from course_app.security.passwords import verify_password

STORED = 12
LOWERED = 4
WRONG = "not the password"


def rejection_seconds(url: str, email: str, samples: int) -> list[float]:
    """Wrong passwords from distinct client addresses, so no throttle is met on the way."""
    times = []
    for n in range(samples + 1):  # the first one warms up
        with browser(url, local_address=f"127.0.{n // 250 + 1}.{n % 250 + 1}") as client:
            started = time.perf_counter()
            r = client.post("/auth/login", json={"email": email, "password": WRONG})
            times.append(time.perf_counter() - started)
        assert r.status_code == 401, r.text
    return times[1:]


def in_process_seconds(password_hash: str | None, rounds: int, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        verify_password(WRONG, password_hash, rounds)
        times.append(time.perf_counter() - started)
    return times


def p50(samples: list[float]) -> str:
    return f"{percentile(samples, 50) * 1000:.1f} ms"


def run(samples: int = 15, say: Callable[[str], None] = print) -> list[Row]:
    rows = []
    with target(rounds=STORED) as app:
        say(f"rejection: accounts hashed at {STORED}")
        person(app.url, "known@example.com", confirmed=False).close()
        db = Path(app.db_path)
        for rounds in (STORED, LOWERED):
            with target(rounds=rounds, db_path=db) as served:
                say(f"rejection: served at {rounds}")
                known = rejection_seconds(served.url, "known@example.com", samples)
                unknown = rejection_seconds(served.url, "nobody@example.com", samples)
                rows.append(
                    Row(
                        "wrong-password rejection",
                        f"hashes at {STORED}, STEPUP_BCRYPT_ROUNDS={rounds}",
                        f"account {p50(known)} / unknown {p50(unknown)}",
                        f"p50 over HTTP, {samples} each; ratio"
                        f" {percentile(known, 50) / percentile(unknown, 50):.2f}",
                    )
                )
    stored_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(STORED)).decode()
    before_known = in_process_seconds(stored_hash, LOWERED, samples)
    before_unknown = in_process_seconds(None, LOWERED, samples)
    ratio = percentile(before_known, 50) / percentile(before_unknown, 50)
    rows.append(
        Row(
            "wrong-password rejection",
            f"the rule before issue 18, hashes at {STORED}, rounds {LOWERED}",
            f"account {p50(before_known)} / unknown {p50(before_unknown)}",
            f"in process; ratio {ratio:.1f}",
        )
    )
    return rows
