"""Which machine the figures come from."""

import os
import platform
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path


def _proc(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def describe() -> list[tuple[str, str]]:
    memory = _proc("/proc/meminfo", "MemTotal")
    if memory.endswith("kB"):
        memory = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB"
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("fastapi", "starlette", "uvicorn", "bcrypt")
    )
    return [
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("CPU model", _proc("/proc/cpuinfo", "model name")),
        ("RAM", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("packages", packages),
        ("load average (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]
