"""The notebooks' command line, for CI and for committing: a kernel never imports this module,
so nbformat and nbclient (about a second to import) stay out of the notebooks.

    python -m course_kit.notebook --strip notebooks/*.ipynb   # drop outputs and metadata
    python -m course_kit.notebook --check notebooks/*.ipynb   # fail if any are left
    python -m course_kit.notebook --run --impl solutions notebooks/*.ipynb   # execute, timed
"""

import argparse
import copy
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_kit.impl import ENV_VAR
from course_kit.notebook.progress import NOTEBOOK_DEFAULT

# The kernelspec `make setup` registers: saving from JupyterLab then stripping leaves no diff.
KERNELSPEC = {"display_name": "Python 3 (step-up lab)", "language": "python", "name": "python3"}


def problems(path: Path) -> list[str]:
    """Why a notebook is not fit to commit: outputs, execution counts, extra metadata."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    metadata = notebook.get("metadata")
    if metadata != {"kernelspec": KERNELSPEC}:
        found.append(f"its metadata should be the python3 kernelspec only, not {metadata}")
    for n, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("outputs"):
            found.append(f"cell {n} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {n} has an execution count")
        if cell.get("metadata"):
            found.append(f"cell {n} has metadata {sorted(cell['metadata'])}")
    return [f"{path}: {p}" for p in found]


def strip(path: Path) -> bool:
    """Remove outputs, execution counts and metadata in place; True when the file changed."""
    import nbformat  # about a second to import: only when asked

    before = Path(path).read_text(encoding="utf-8")
    notebook = nbformat.reads(before, as_version=4)
    notebook.metadata = nbformat.NotebookNode({"kernelspec": dict(KERNELSPEC)})
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode()
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(notebook)
    after = nbformat.writes(notebook)
    if not after.endswith("\n"):
        after += "\n"
    if after == before:
        return False
    Path(path).write_text(after, encoding="utf-8")
    return True


@dataclass
class Run:
    """One notebook executed top to bottom in a fresh kernel."""

    path: Path
    impl: str
    seconds: float  # executing the cells; the kernel's start is not counted
    notebook: Any  # the executed notebook (nbformat), outputs included
    error: str | None = None
    # Cells run a second time afterwards: each group's cells as that run left them.
    again: list[list[Any]] = field(default_factory=list)
    again_error: str | None = None
    again_seconds: float = 0.0


# Which cells to run a second time once the notebook ran: groups of cell indices, in order.
AgainPlan = Callable[[Any], list[list[int]]]


def run(
    path: Path,
    impl: str,
    timeout: int = 120,
    again: AgainPlan | None = None,
    kit_root: Path | None = None,
) -> Run:
    """Execute ``path`` in a new ``python3`` kernel started in the notebook's folder, with
    ``STEPUP_IMPL=impl``, as CI and a student on a fresh machine would. Then, in the same
    kernel, run the groups of cells ``again`` names a second time, as a student does after an
    edit (the notebook keeps the outputs of the first run). ``kit_root``: a kit other than the
    installed one."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = None
    env = os.environ | {ENV_VAR: impl}
    if kit_root is not None:  # a copy of the kit: its own code and manifest, not the installed
        env |= {"STEPUP_KIT_ROOT": str(kit_root), "PYTHONPATH": str(kit_root)}
    with client.setup_kernel(env=env):
        began = time.perf_counter()
        try:
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
        except CellExecutionError as exc:
            error = str(exc)
        seconds = time.perf_counter() - began
        done = Run(path, impl, seconds, notebook, error)
        if again is not None and error is None:
            began = time.perf_counter()
            _run_again(client, notebook, again(notebook), done)
            done.again_seconds = time.perf_counter() - began
    return done


def _run_again(client: Any, notebook: Any, groups: list[list[int]], done: Run) -> None:
    from nbclient.exceptions import CellExecutionError

    for group in groups:
        cells = []
        for index in group:
            first = notebook.cells[index]
            cell = copy.deepcopy(first)
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                done.again_error = f"cell {index}, run again: {exc}"
                return
            finally:
                notebook.cells[index] = first  # execute_cell stores the cell it ran
            cells.append(cell)
        done.again.append(cells)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_kit.notebook",
        description="Keep committed notebooks free of outputs and extra metadata.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--strip", action="store_true", help="strip the notebooks in place")
    action.add_argument("--check", action="store_true", help="fail if any notebook needs it")
    action.add_argument("--run", action="store_true", help="execute them and print the times")
    parser.add_argument("--impl", default=None, help="with --run: solutions, exercises or PATH")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.run:
        return _run_all(args.notebooks, args.impl or os.environ.get(ENV_VAR) or NOTEBOOK_DEFAULT)
    if args.strip:
        for path in args.notebooks:
            print(f"{'stripped' if strip(path) else 'clean   '} {path}")
        return 0
    found = [p for path in args.notebooks for p in problems(path)]
    print("\n".join(found) or f"{len(args.notebooks)} notebook(s) clean")
    return 1 if found else 0


def _run_all(paths: Sequence[Path], impl: str) -> int:
    total, failed = 0.0, 0
    for path in paths:
        done = run(path, impl)
        total += done.seconds
        failed += done.error is not None
        state = "ok" if done.error is None else "FAILED"
        print(f"{done.seconds:6.1f} s  {path.name}  ({impl}) {state}", flush=True)
        if done.error:
            print(done.error[-3000:])
    print(f"{total:6.1f} s  in all, kernel starts not counted")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
