"""Notebook executions shared by the tests of this folder: every selected (notebook,
implementation) pair starts at once, two kernels at a time; each test waits for its own. With
the solutions, the cells each "Your turn" sends the student back to run a second time in the
same kernel once the notebook is done."""

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from course_kit.kit import KIT_ROOT
from course_kit.notebook.__main__ import Run, run
from course_kit.notebook.judging import again_plan

NOTEBOOKS = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))
IMPLS = ("solutions", "exercises")
WORKERS = 2  # kernels at once: the check cells spawn pytest too, and CI has two cores


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
