"""Notebook executions shared by the tests of this folder: every selected (notebook,
implementation) pair starts at once, two kernels at a time; each test waits for its own. With
the solutions, the cells each "Your turn" sends the student back to run a second time in the
same kernel once the notebook is done."""

import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from course_kit.kit import KIT_ROOT
from course_kit.notebook.__main__ import Run, run

NOTEBOOKS = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))
IMPLS = ("solutions", "exercises")
WORKERS = 2  # kernels at once: the check cells spawn pytest too, and CI has two cores

# How a "Your turn" cell names the code cells to run again after an edit: (direction, count).
NAMED_CELLS = {
    "run the cell above": (-1, 1),
    "run the two cells above": (-1, 2),
    "run the three cells above": (-1, 3),
    "run the cell below": (1, 1),
    "run the two cells below": (1, 2),
}
FROM_THE_TOP = "run the notebook again from the top"
YOUR_TURN = re.compile(r"^#+ Your turn", re.MULTILINE)
NEVER_AGAIN = ("nb.start(", "nb.check(")  # a new lab (the cells after it would need one too); slow


def text_of(cell: Any) -> str:
    return " ".join("".join(cell.source).split())


def your_turns(notebook: Any) -> list[tuple[int, list[int]]]:
    """Each "Your turn" heading's cell and the code cells it sends the student back to: the ones
    it names ("run the two cells above again"); for "run the notebook again from the top", the
    code cells since the previous "Your turn". Never the start or the check cell."""
    cells = notebook.cells
    code = [
        n
        for n, c in enumerate(cells)
        if c.cell_type == "code" and not any(s in text_of(c) for s in NEVER_AGAIN)
    ]
    turns, previous = [], -1
    for n, cell in enumerate(cells):
        text = text_of(cell)
        if cell.cell_type != "markdown" or not YOUR_TURN.search("".join(cell.source)):
            continue
        group: list[int] = []
        if FROM_THE_TOP in text:
            group += [i for i in code if previous < i < n]
        for phrase, (direction, count) in NAMED_CELLS.items():
            if re.search(rf"\b{phrase}\b", text):
                side = (
                    [i for i in code if i < n][::-1]
                    if direction < 0
                    else [i for i in code if i > n]
                )
                group += sorted(side[:count])
        turns.append((n, sorted(set(group))))
        previous = n
    return turns


def again_plan(notebook: Any) -> list[list[int]]:
    return [group for _, group in your_turns(notebook)]


class Runner:
    def __init__(self, wanted: list[tuple[Path, str]]) -> None:
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="notebook")
        self.futures: dict[tuple[str, str], Future[Run]] = {}
        self.done: dict[tuple[str, str], Run] = {}
        for path, impl in wanted:
            self.start(path, impl)

    def start(self, path: Path, impl: str) -> Future[Run]:
        key = (path.name, impl)
        if key not in self.futures:
            again = again_plan if impl == "solutions" else None
            self.futures[key] = self.pool.submit(run, path, impl, again=again)
        return self.futures[key]

    def get(self, path: Path, impl: str) -> Run:
        done = self.start(path, impl).result()
        self.done[(path.name, impl)] = done
        return done

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
