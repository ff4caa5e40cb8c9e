"""Every notebook runs top to bottom in a fresh kernel, with the solutions (every check table all
✓) and with the untouched exercises (check tables show the work left, never a traceback); the
committed notebooks carry no outputs, execution counts or extra metadata."""

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from notebook_runs import IMPLS, NOTEBOOKS, Runner, your_turns

from course_kit.manifest import load_course
from course_kit.notebook.__main__ import problems, strip

pytestmark = pytest.mark.notebook

MARK = re.compile(r">(✓|✗)</td>")
CHECK_TABLE = re.compile(r'<table[^>]*class="stepup-check"[^>]*>')
ATTRIBUTE = re.compile(r'data-(\w+)="([^"]*)"')
EXERCISE_OF = {Path(e.notebook).name: e.id for e in load_course().exercises}


def check_tables(notebook: Any) -> list[dict[str, str]]:
    """The check tables a run displayed: ``{"exercise": "ex01", "passed": "3", "tasks": "3"}``."""
    return [
        dict(ATTRIBUTE.findall(tag))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        for tag in CHECK_TABLE.findall(output.get("data", {}).get("text/html", ""))
    ]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(runner: Runner, notebook: Path, impl: str) -> None:
    done = runner.get(notebook, impl)
    assert done.error is None, f"{notebook.name} with {impl} stopped on an error:\n{done.error}"
    tables = check_tables(done.notebook)
    exercise = EXERCISE_OF.get(notebook.name)
    if exercise is None:
        assert tables == [], f"{notebook.name} is not an exercise notebook but runs a check"
        return
    assert [t["exercise"] for t in tables] == [exercise], f"{notebook.name}: one check, {exercise}"
    passed, total = int(tables[0]["passed"]), int(tables[0]["tasks"])
    if impl == "solutions":
        assert passed == total, f"{notebook.name}: the solutions pass only {passed}/{total} tasks"
    else:
        assert passed < total, f"{notebook.name}: the untouched stubs pass every task"


def marks(cell: Any) -> list[str]:
    """The ✓ and ✗ a cell's outcome tables showed, in order."""
    return [
        mark
        for output in cell.get("outputs", [])
        for mark in MARK.findall(output.get("data", {}).get("text/html", ""))
    ]


@pytest.mark.parametrize(
    "notebook",
    [p for p in NOTEBOOKS if p.name in EXERCISE_OF],
    ids=[p.stem for p in NOTEBOOKS if p.name in EXERCISE_OF],
)
def test_your_turn_cells_give_the_same_outcomes_run_again(runner: Runner, notebook: Path) -> None:
    done = runner.get(notebook, "solutions")
    assert done.error is None, f"{notebook.name} stopped on an error:\n{done.error}"
    turns = your_turns(done.notebook)
    assert turns, f"{notebook.name} has no 'Your turn' cell"
    for at, group in turns:
        assert group, f"{notebook.name}: the 'Your turn' in cell {at} names no cell to run again"
    assert done.again_error is None, f"{notebook.name}: {done.again_error}"
    assert len(done.again) == len(turns)
    for (at, group), cells in zip(turns, done.again, strict=True):
        for index, second in zip(group, cells, strict=True):
            first = marks(done.notebook.cells[index])
            assert marks(second) == first, (
                f"{notebook.name}, cell {index} (sent back to by the 'Your turn' in cell {at}):"
                f" {first} the first time, {marks(second)} the second"
            )
    compared = [m for cells in done.again for cell in cells for m in marks(cell)]
    assert "✗" not in compared, f"{notebook.name}: the solutions get a ✗ on a second run"


def test_the_timeline_is_drawn(runner: Runner) -> None:
    notebook = next(p for p in NOTEBOOKS if p.name.startswith("03_"))
    for impl in IMPLS:
        done = runner.get(notebook, impl)
        images = [
            o
            for c in done.notebook.cells
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        assert len(images) == 1, f"03 with {impl} drew {len(images)} images, expected the timeline"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_clean(notebook: Path) -> None:
    assert problems(notebook) == [], (
        "run: .venv/bin/python -m course_kit.notebook --strip notebooks/*.ipynb"
    )


def test_strip_removes_outputs_counts_and_metadata(tmp_path: Path) -> None:
    dirty = tmp_path / NOTEBOOKS[0].name
    shutil.copy(NOTEBOOKS[0], dirty)
    data = json.loads(dirty.read_text(encoding="utf-8"))
    code = next(c for c in data["cells"] if c["cell_type"] == "code")
    code["execution_count"] = 7
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    code["metadata"] = {"scrolled": True}
    data["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    dirty.write_text(json.dumps(data, indent=1), encoding="utf-8")
    found = problems(dirty)
    assert len(found) == 4, found
    assert strip(dirty) is True
    assert problems(dirty) == []
    assert strip(dirty) is False, "stripping a clean notebook changed it"
    cleaned = json.loads(dirty.read_text(encoding="utf-8"))
    original = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    assert [c["source"] for c in cleaned["cells"]] == [c["source"] for c in original["cells"]]
