"""How a notebook run is judged, for CI (``tests/notebooks``) and ``stepup teach verify``: the
check tables it showed, the ✓ and ✗ of its outcome tables, and the cells each "Your turn"
sends the student back to (run a second time, they must give the same outcomes)."""

import re
from typing import Any

MARK = re.compile(r">(✓|✗)</td>")
CHECK_TABLE = re.compile(r'<table[^>]*class="stepup-check"[^>]*>')
ATTRIBUTE = re.compile(r'data-(\w+)="([^"]*)"')


def check_tables(notebook: Any) -> list[dict[str, str]]:
    """The check tables a run displayed: ``{"exercise": "ex01", "passed": "3", "tasks": "3"}``."""
    return [
        dict(ATTRIBUTE.findall(tag))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        for tag in CHECK_TABLE.findall(output.get("data", {}).get("text/html", ""))
    ]


def printed_to_stderr(notebook: Any) -> list[str]:
    """What the cells printed to stderr: in the lab, pink boxes a student takes for errors."""
    return [
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]


def marks(cell: Any) -> list[str]:
    """The ✓ and ✗ a cell's outcome tables showed, in order."""
    return [
        mark
        for output in cell.get("outputs", [])
        for mark in MARK.findall(output.get("data", {}).get("text/html", ""))
    ]


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


def run_problems(done: Any, exercise_id: str | None) -> list[str]:
    """What is wrong with a run (a ``course_kit.notebook.__main__.Run``) of the notebook of
    ``exercise_id`` (None: a notebook without an exercise). With the solutions every task
    passes and every "Your turn" cell gives the same outcomes run again; with the untouched
    stubs the check shows work left; either way, no cell stops on an error or prints to
    stderr."""
    name = done.path.name
    if done.error is not None:
        return [f"{name} with {done.impl} stopped on an error:\n{done.error}"]
    if stderr := printed_to_stderr(done.notebook):
        return [f"{name} with {done.impl} printed to stderr (a pink box in the lab): {stderr}"]
    tables = check_tables(done.notebook)
    if exercise_id is None:
        return [f"{name} is not an exercise notebook but runs a check"] if tables else []
    if [t["exercise"] for t in tables] != [exercise_id]:
        return [f"{name}: expected one check, of {exercise_id}; found {tables}"]
    passed, total = int(tables[0]["passed"]), int(tables[0]["tasks"])
    if done.impl == "solutions" and passed != total:
        return [f"{name}: the solutions pass only {passed}/{total} tasks"]
    if done.impl == "exercises" and passed == total:
        return [f"{name}: the untouched stubs pass every task"]
    return again_problems(done) if done.impl == "solutions" else []


def again_problems(done: Any) -> list[str]:
    """Each cell a "Your turn" sends the student back to, run a second time in the same
    kernel, shows what it showed the first time, and never a ✗ for the solutions."""
    name = done.path.name
    turns = your_turns(done.notebook)
    found = [] if turns else [f"{name} has no 'Your turn' cell"]
    found += [
        f"{name}: the 'Your turn' in cell {at} names no cell to run again"
        for at, group in turns
        if not group
    ]
    if done.again_error is not None:
        return [*found, f"{name}: {done.again_error}"]
    if len(done.again) != len(turns):
        return [*found, f"{name}: {len(done.again)} cells run again for {len(turns)} turns"]
    for (at, group), cells in zip(turns, done.again, strict=True):
        for index, second in zip(group, cells, strict=True):
            first = marks(done.notebook.cells[index])
            if marks(second) != first or "✗" in first:
                found.append(
                    f"{name}, cell {index} (sent back to by the 'Your turn' in cell {at}):"
                    f" {first} the first time, {marks(second)} the second"
                )
    return found
