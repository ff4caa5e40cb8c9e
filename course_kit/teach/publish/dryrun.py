"""``stepup teach dry-run SUBMISSION``: Gradescope's harness, played locally.

In a scratch root laid out as Gradescope lays out ``/autograder`` (``source/`` the unzipped
autograder, ``run_autograder`` copied beside it, ``submission/`` the student's files), it runs
the exported ``setup.sh`` once and ``run_autograder`` once, from the folders Gradescope runs
them in, then checks ``results/results.json`` against Gradescope's documented fields
(:mod:`course_kit.teach.publish.gradescope_format`). The scripts find the scratch root through
``STEPUP_AUTOGRADER_ROOT``; ``--python`` skips building the image's virtualenv (which needs
the network) and grades with an interpreter that ``setup.sh`` checks holds exactly the pinned
versions.
"""

import json
import os
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from course_kit.kit import KIT_ROOT, KitError
from course_kit.teach.publish.gradescope import export_gradescope
from course_kit.teach.publish.gradescope_format import GradescopeResults

SCRIPTS = ("setup.sh", "run_autograder")


@dataclass
class Step:
    script: str
    code: int
    seconds: float
    output: str  # its stdout and stderr, the tail


@dataclass
class DryRun:
    root: Path
    steps: list[Step] = field(default_factory=list)
    results: GradescopeResults | None = None
    problems: list[str] = field(default_factory=list)  # empty: Gradescope would accept it

    @property
    def ok(self) -> bool:
        return not self.problems


def lay_out(root: Path, autograder: Path, submission: Path) -> None:
    """``root`` as Gradescope's ``/autograder``: the zip in ``source``, ``run_autograder``
    beside it, the submission's files in ``submission`` (a zip is unpacked, as Gradescope
    does with an uploaded zip)."""
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")  # zipfile keeps every member inside the folder
        for script in SCRIPTS:
            if script not in archive.namelist():
                raise KitError(f"{autograder} has no {script}: not a Gradescope autograder")
    for script in SCRIPTS:
        (root / "source" / script).chmod(0o755)  # zipfile does not restore modes
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    if submission.is_dir():
        shutil.copytree(submission, root / "submission", symlinks=True)
    elif zipfile.is_zipfile(submission):
        with zipfile.ZipFile(submission) as archive:
            archive.extractall(root / "submission")
    else:
        raise KitError(f"{submission} is neither a folder nor a zip archive")


def run_step(command: Path, cwd: Path, env: dict[str, str], timeout: float) -> Step:
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", str(command)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout or b""  # bytes, whatever text=True asked for
        said = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        code, output = -1, f"did not finish within {timeout:g} s\n{said}"
    return Step(command.name, code, time.monotonic() - started, str(output)[-4000:])


def dry_run(
    submission: Path,
    root: Path,
    autograder: Path | None = None,
    python: str | None = None,
    kit_root: Path = KIT_ROOT,
) -> DryRun:
    """Lay out ``root``, run both scripts, check what they wrote. ``autograder``: a zip made
    earlier (else one is exported from ``kit_root`` now)."""
    if not submission.exists():
        raise KitError(f"{submission} does not exist")
    root.mkdir(parents=True, exist_ok=True)
    if autograder is None:
        autograder = export_gradescope(root / "autograder.zip", kit_root)
    lay_out(root, autograder, submission)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPUP_", "PYTHON"))}
    env["STEPUP_AUTOGRADER_ROOT"] = str(root)
    if python:
        env["STEPUP_PYTHON"] = python
    found = DryRun(root)
    # Gradescope runs setup.sh in the unzipped source, run_autograder from /autograder.
    steps = (("source/setup.sh", root / "source", 1800), ("run_autograder", root, 900))
    for script, cwd, timeout in steps:
        step = run_step(root / script, cwd, env, timeout)
        found.steps.append(step)
        if step.code != 0:
            found.problems.append(f"{step.script} failed (exit status {step.code})")
            return found
    path = root / "results" / "results.json"
    try:
        found.results = GradescopeResults.model_validate(json.loads(path.read_text("utf-8")))
    except OSError:
        found.problems.append("run_autograder wrote no results/results.json")
    except ValueError as exc:  # not JSON, or not Gradescope's fields
        if isinstance(exc, ValidationError):
            found.problems += [_field_problem(e) for e in exc.errors()]
        else:
            found.problems.append(f"results.json is not JSON: {exc}")
    return found


def _field_problem(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "top level"
    return f"results.json: {where}: {error['msg']}"
