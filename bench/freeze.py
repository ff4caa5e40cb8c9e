"""freezegun's cost per freeze in a process like ours, and what ``course_kit.timetravel``
does about it.

``freeze_time().start()`` walks every loaded module and swaps each attribute that is a real
``datetime``/``time`` function for a fake one (the first walk also reads ``dir()`` of every
module into a cache); ``stop()`` puts them back. The work grows with what the process
imported: a notebook kernel or a browser test has Jupyter, zmq, tornado and Playwright loaded
besides FastAPI. ``timetravel.frozen_clock`` passes an ``ignore`` list of those packages, so
freezegun skips their modules when patching (and hands code called from them the real time).
A third configuration measures an option: ignoring every package but ``course_app``.

Each configuration runs in a fresh process, so the first (cold) freeze is measured honestly.
"""

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import freezegun.api
from freezegun import freeze_time

from bench.stats import Row, percentile
from course_kit.timetravel import IGNORE, START

# What a notebook kernel or a browser-test process has loaded, where installed.
HEAVY = [
    "course_app.app",
    "fastapi.testclient",
    "jupyter_client",
    "ipykernel.kernelbase",
    "nbclient",
    "nbformat",
    "zmq",
    "tornado.ioloop",
    "playwright.sync_api",
]
EVERYTHING_BUT_OURS = "ignore all but course_app (option)"
CONFIGS = {"freezegun defaults": None, "timetravel ignore list": IGNORE, EVERYTHING_BUT_OURS: []}


def ignore_for(label: str) -> list[str] | None:
    """The ignore list of a configuration. The option ignores every top-level package loaded
    except ours: only ``course_app`` reads the clock (through ``course_app.clock``); ``bench``
    stays frozen too, so ``datetime.now()`` is measured from a frozen caller."""
    if label != EVERYTHING_BUT_OURS:
        return CONFIGS[label]
    tops = {name.split(".", 1)[0] for name in sys.modules}
    return sorted(tops - {"course_app", "bench", "datetime", "time", "__main__"})


def clock() -> float:
    """The real perf counter, also while frozen (freezegun fakes ``time.perf_counter``)."""
    return freezegun.api.real_perf_counter()


def freeze_cycle(ignore: list[str] | None) -> float:
    kwargs = {"real_asyncio": True} | ({"ignore": ignore} if ignore is not None else {})
    started = clock()
    freezer = freeze_time(START, **kwargs)
    freezer.start()
    freezer.stop()
    return clock() - started


def now_call(ignore: list[str] | None, calls: int = 20000) -> float:
    """Seconds per ``datetime.now()`` while frozen (freezegun looks at the caller's stack to
    choose between the real and the fake time)."""
    kwargs = {"real_asyncio": True} | ({"ignore": ignore} if ignore is not None else {})
    with freeze_time(START, **kwargs):
        started = clock()
        for _ in range(calls):
            datetime.now(UTC)
        return (clock() - started) / calls


def tick_call(calls: int = 10000) -> float:
    """Seconds per ``clock.tick()``: moving a frozen clock walks no modules."""
    with freeze_time(START, real_asyncio=True, ignore=IGNORE) as frozen:
        started = clock()
        for _ in range(calls):
            frozen.tick(1)
        return (clock() - started) / calls


def measure(label: str, samples: int) -> dict[str, object]:
    """In this (fresh) process: load the heavy modules, then time freezes."""
    loaded = []
    for name in HEAVY:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            pass
    ignore = ignore_for(label)
    prefixes = tuple(IGNORE)
    return {
        "modules": len(sys.modules),
        "ignored": sum(1 for name in sys.modules if name.startswith(prefixes)),
        "loaded": loaded,
        "first": freeze_cycle(ignore),
        "cycles": [freeze_cycle(ignore) for _ in range(samples)],
        "now": now_call(ignore),
        "tick": tick_call(),
    }


def run(samples: int = 30, say: Callable[[str], None] = print) -> list[Row]:
    root = Path(__file__).resolve().parent.parent
    results = {}
    for label in CONFIGS:
        say(f"freezegun: {label}")
        code = f"import json, bench.freeze as f; print(json.dumps(f.measure({label!r}, {samples})))"
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
        )
        results[label] = json.loads(out.stdout.strip().splitlines()[-1])
    some = next(iter(results.values()))
    rows = [
        Row(
            "freezegun",
            "modules loaded (kernel/browser-test-like process)",
            f"{some['modules']}",
            f"{some['ignored']} of them in the ignore list's packages",
        )
    ]
    for label, result in results.items():
        cycles = result["cycles"]
        rows.append(
            Row(
                "freezegun",
                f"freeze + unfreeze, {label}",
                f"p50 {percentile(cycles, 50) * 1000:.1f} ms",
                f"first freeze {result['first'] * 1000:.0f} ms (cold cache); p99"
                f" {percentile(cycles, 99) * 1000:.1f} ms; datetime.now() while frozen"
                f" {result['now'] * 1e6:.1f} us",
            )
        )
    rows.append(
        Row(
            "freezegun",
            "clock.tick() on a frozen clock",
            f"{some['tick'] * 1e6:.1f} us",
            "what timetravel.advance() does: a test freezes once and moves the clock",
        )
    )
    return rows
