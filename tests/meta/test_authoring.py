"""The authoring path, as an instructor follows it: the worked example of ``docs/authoring.md``
is run in a copy of the kit (``stepup teach new``, the page's files, ``stepup teach stubs``),
and ``stepup teach verify`` must find every check holding. The page's own code is what runs, so
the guide cannot drift from the kit."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_kit.kit import KIT_ROOT
from course_kit.notebook.__main__ import KERNELSPEC, strip

GUIDE = KIT_ROOT / "docs" / "authoring.md"
KIT_COPY = (
    "course_app",
    "course_kit",
    "exercises",
    "solutions",
    "notebooks",
    "docs",
    "tests/conftest.py",
    "tests/graded",
    "tests/meta/mutants.toml",
    "course.toml",
    "pyproject.toml",
    "lab.mk",
    ".gitignore",
)
FENCE = re.compile(r"^```(\w+) ?([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def worked_example() -> list[tuple[str, str, str]]:
    """(language, info, text) of every fenced block of the worked example, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    return FENCE.findall(text[text.index("## Worked example") :])


def stepup(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"STEPUP_KIT_ROOT": str(kit), "PYTHONPATH": str(kit)}
    return subprocess.run(
        [sys.executable, "-m", "course_kit.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=kit,
        env=env,
    )


def copy_kit(target: Path) -> Path:
    for part in KIT_COPY:
        source = KIT_ROOT / part
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            shutil.copytree(source, target / part, ignore=ignored)
        else:
            shutil.copy(source, target / part)
    return target


def notebook(cells: list[tuple[str, str]], path: Path) -> None:
    """The notebook of the example's cells, in the form `make strip` commits."""
    document = {
        "cells": [
            {"cell_type": kind, "id": f"c{n:02d}", "metadata": {}, "source": source}
            | ({"execution_count": None, "outputs": []} if kind == "code" else {})
            for n, (kind, source) in enumerate(cells)
        ],
        "metadata": {"kernelspec": KERNELSPEC},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    strip(path)


def test_the_guide_says_what_it_runs() -> None:
    blocks = worked_example()
    assert blocks[0][0] == "sh" and blocks[0][2].startswith("stepup teach new")
    files = {
        info for language, info, _ in blocks if info.startswith(("file=", "entry=", "mutants="))
    }
    files.add("notebook")
    written = sum(len(text.splitlines()) for _, info, text in blocks[1:])
    # the bound for a three-task lesson: six files, under 400 lines by hand
    assert len(files) <= 6 and written < 400, (sorted(files), written)


@pytest.mark.notebook
def test_the_worked_example_passes_every_check(tmp_path: Path) -> None:
    kit = copy_kit(tmp_path / "kit")
    blocks = worked_example()
    made = stepup(kit, *shlex.split(blocks[0][2])[1:])  # the guide's `stepup teach new …`
    assert made.returncode == 0, made.stderr
    new_id = re.search(r"solutions/(ex\d\d)_", made.stdout).group(1)  # ex06, or later ones
    number = new_id[2:]

    def ours(text: str) -> str:  # the guide says ex06; the copy may already hold one
        text = text.replace("ex06", new_id).replace("06_recovery", f"{number}_recovery")
        return text.replace("Exercise 6", f"Exercise {int(number)}")

    cells: list[tuple[str, str]] = []
    for language, info, text in blocks[1:]:
        text = ours(text)
        if info.startswith("file="):
            (kit / ours(info.removeprefix("file="))).write_text(text, encoding="utf-8")
        elif info.startswith("entry="):
            manifest = kit / "course.toml"
            old = manifest.read_text(encoding="utf-8")
            start = old.index(f'[[exercises]]\nid = "{new_id}"')
            end = re.search(r"^(#[^\n]*\n)*\[grading\]", old[start:], re.MULTILINE).start()
            manifest.write_text(old[:start] + text + "\n" + old[start + end :], encoding="utf-8")
        elif info.startswith("mutants="):  # in place of the ones `stepup teach new` wrote
            mutants = kit / "tests" / "meta" / "mutants.toml"
            entries = mutants.read_text(encoding="utf-8").split("\n[[mutant]]\n")
            kept = [e for e in entries if f'name = "{new_id}: ' not in e]
            mutants.write_text("\n[[mutant]]\n".join(kept).rstrip("\n") + "\n\n" + text)
        elif info == "cell":
            cells.append(("code" if language == "python" else "markdown", text.rstrip("\n")))
    notebook(cells, kit / f"notebooks/{number}_recovery_codes.ipynb")

    stubs = stepup(kit, "teach", "stubs", new_id)
    assert stubs.returncode == 0, stubs.stderr
    verified = stepup(kit, "teach", "verify", new_id)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert re.search(r"(\d+)/\1 checks hold", verified.stdout), verified.stdout
    assert "mutant: " in verified.stdout and "tasks 1 to 2 written" in verified.stdout
