"""JupyterLab started the way a student starts it, ``make lab``, in a scratch copy of the kit
(imported by name: pytest puts this folder on ``sys.path``).

The copy keeps the repository's files out of reach of what the browser types and saves. Its
``.venv`` is a link to the environment running the tests (``make -o`` keeps make from
reinstalling into it), and ``STEPUP_KIT_ROOT`` makes the kernels and the checks use the copy.
Jupyter's own folders (settings, workspaces, runtime) live in a fresh folder too, so neither a
developer's ~/.jupyter nor a previous run changes what the lab shows.

``make lab`` opens the browser itself: here the "browser" is a script that writes down the
address it was given (a local page that forwards to the lab, with its token), which the test
then opens in Chromium.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from course_kit.kit import KIT_ROOT

STARTUP_SECONDS = 180  # a busy two-core machine; the lab usually answers in ten
LEFT_BEHIND = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", ".ipynb_checkpoints"
)
SCREEN_READER = {"screenReaderMode": True}  # the Terminal's text, in the page's own elements


@dataclass
class RunningLab:
    kit: Path  # the scratch copy of the kit, the lab's root
    opened: str  # what make lab asked the browser to open
    url: str  # http://localhost:PORT, the lab's own address
    token: str
    log: Path  # what make lab printed

    def address(self, path: str) -> str:
        return f"{self.url}{path}?token={self.token}"


def scratch_kit(folder: Path) -> Path:
    """A copy of the kit (without .git, caches or other runs' data), its .venv this one."""
    kit = folder / "kit"
    shutil.copytree(KIT_ROOT, kit, ignore=LEFT_BEHIND)
    for run_data in (".data", "dist", "out", "build"):
        shutil.rmtree(kit / run_data, ignore_errors=True)
    (kit / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return kit


@contextmanager
def make_lab(kit: Path, home: Path) -> Iterator[RunningLab]:
    """``make lab`` in ``kit`` on a free port until the block ends."""
    opened = home / "opened"
    opener = home / "open-browser"
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n', encoding="utf-8")
    opener.chmod(0o755)
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "terminal-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps(SCREEN_READER))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "STEPUP_"))}
    env |= {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "STEPUP_KIT_ROOT": str(kit),
    }
    log = home / "lab.log"
    browser = f"--ServerApp.browser='{opener} %s'"
    command = ["make", "-C", str(kit), "-o", ".venv/.installed", "lab"]
    command.append(f"LAB_ARGS=--port=0 {browser}")
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, the lab and its kernels: one group to stop
        )
    running = None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not opened.is_file() or not opened.read_text():
            tail = log.read_text(errors="replace")[-3000:]
            assert process.poll() is None, f"make lab stopped:\n{tail}"
            assert time.monotonic() < deadline, f"make lab opened no browser:\n{tail}"
            time.sleep(0.2)
        page = opened.read_text().removeprefix("file://")
        found = re.search(r'url=(http://[^/"]+)/[^"?]*\?token=(\w+)', Path(page).read_text())
        assert found, f"no lab address in {page}"
        running = RunningLab(kit, opened.read_text(), found[1], found[2], log)
        yield running
    finally:
        _stop(process, running)


def _stop(process: subprocess.Popen[bytes], running: RunningLab | None) -> None:
    """Shut the lab down as its File menu does (its kernels first), so make, the lab and the
    kernels all end as their parents wait for them; signals only if that fails."""
    if running is not None:
        try:
            headers = {"Authorization": f"token {running.token}"}
            httpx.post(f"{running.url}/api/shutdown", headers=headers, timeout=30)
            process.wait(timeout=60)
            return
        except (httpx.HTTPError, subprocess.TimeoutExpired):
            pass
    for stop in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, stop)
            process.wait(timeout=30)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
