"""Every notebook runs top to bottom in a fresh kernel, with the solutions (every check table all
✓) and with the untouched exercises (check tables show the work left, never a traceback, nothing
on stderr); the committed notebooks carry no outputs, execution counts or extra metadata."""

import json
import shutil
from pathlib import Path

import pytest
from notebook_runs import IMPLS, NOTEBOOKS, Runner

from course_kit.manifest import load_course
from course_kit.notebook.__main__ import problems, strip
from course_kit.notebook.judging import run_problems, your_turns

pytestmark = pytest.mark.notebook

EXERCISE_OF = {Path(e.notebook).name: e.id for e in load_course().exercises}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(runner: Runner, notebook: Path, impl: str) -> None:
    """With the solutions every task passes, and every cell a "Your turn" sends the student
    back to gives the same outcomes run again (never a ✗); with the stubs work is left."""
    done = runner.get(notebook, impl)
    assert run_problems(done, EXERCISE_OF.get(notebook.name)) == []


@pytest.mark.parametrize(
    "notebook",
    [p for p in NOTEBOOKS if p.name in EXERCISE_OF],
    ids=[p.stem for p in NOTEBOOKS if p.name in EXERCISE_OF],
)
def test_every_your_turn_names_cells_to_run_again(runner: Runner, notebook: Path) -> None:
    done = runner.get(notebook, "solutions")
    turns = your_turns(done.notebook)
    assert turns and all(group for _, group in turns), turns
    assert len(done.again) == len(turns), done.again_error


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
