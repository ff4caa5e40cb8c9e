"""``stepup teach verify exNN``: everything CI proves of an exercise, for that exercise alone.

- no ``TODO(author)`` placeholder of ``stepup teach new`` is left;
- the stub is what the marked solution generates, with one ``TODO(task N)`` per task, and
  course.toml pins it;
- both directions: the solution earns every point (hidden tests included), the untouched stub
  none, and each task has a test that fails on the stub;
- in order: with tasks 1..k written, exactly tasks 1..k pass (no test needs a later task);
- every mutant listed for the exercise loses exactly the tasks it names;
- its notebook runs top to bottom with both implementations, cells run again included;
- the student bundle still gives nothing away.

Grading runs go two at a time: each one is a judge and a submission process taking turns.
"""

import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from course_kit.grading.engine import run_graded
from course_kit.grading.outcome import Score, score
from course_kit.kit import KitError, graded_files
from course_kit.manifest import Course, Exercise, load_course
from course_kit.teach.author.mutants import MUTANTS_FILE, Mutant, load_mutants, mutant_kit
from course_kit.teach.author.scaffold import PLACEHOLDER
from course_kit.teach.author.stubs import stub_of


@dataclass
class Finding:
    check: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(exercise_id: str, course: Course | None = None, jobs: int = 2) -> list[Finding]:
    """Run every check of ``exercise_id``; a finding per check, problems empty when it holds."""
    course = course or load_course()
    exercise = course.exercise(exercise_id)
    mutants = load_mutants(course.root)
    own = [m for m in mutants if exercise.id in m.exercises]
    shared = [m for m in mutants if exercise.id not in m.exercises and is_shared(m)]
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("no TODO(author) left", partial(placeholders, course, exercise)),
        ("stub generated and pinned", partial(stub_problems, course, exercise)),
        ("its routes are its own", partial(route_problems, course, exercise)),
        ("solution earns every point", partial(solution_problems, course, exercise)),
        ("untouched stub earns nothing", partial(stub_score_problems, course, exercise)),
    ]
    checks += [
        (f"tasks 1 to {k} written: they pass, no later one", partial(in_order, course, exercise, k))
        for k in range(1, len(exercise.tasks))
    ]
    checks += [(f"mutant: {m.name}", partial(mutant_problems, course, m)) for m in own]
    checks += [
        (f"shared mutant spares it: {m.name}", partial(spared, course, exercise, m)) for m in shared
    ]
    if not own:
        checks.append(("mutants", lambda: [f"no mutant in {MUTANTS_FILE} names {exercise.id}"]))
    checks += [
        (f"notebook with {impl}", partial(notebook_problems, course, exercise, impl))
        for impl in ("solutions", "exercises")
    ]
    checks.append(("student bundle gives nothing away", partial(release_problems, course)))
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        return list(pool.map(lambda check: _timed(*check), checks))


def _timed(name: str, check: Callable[[], list[str]]) -> Finding:
    started = time.monotonic()
    try:
        problems = check()
    except KitError as exc:
        problems = [str(exc)]
    return Finding(name, problems, time.monotonic() - started)


def placeholders(course: Course, exercise: Exercise) -> list[str]:
    """Where ``stepup teach new`` left a ``TODO(author)`` that is still there."""
    files = [
        course.root / "solutions" / exercise.file,
        course.root / exercise.notebook,
        *graded_files(course.root, [exercise.id], course.grading.hidden_dir),
    ]
    found = [
        f"{path.relative_to(course.root)}:{number}"
        for path in files
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PLACEHOLDER in line
    ]
    texts = [exercise.title] + [t.title for t in exercise.tasks]
    texts += [m.name for m in load_mutants(course.root) if exercise.id in m.exercises]
    texts += [hint for t in exercise.tasks for hint in (*t.hints, *t.hint_for.values())]
    if any(PLACEHOLDER in text for text in texts):
        found.append(f"the entry of {exercise.id} in course.toml or its mutants")
    return [f"{PLACEHOLDER} left in {where}" for where in found]


def stub_problems(course: Course, exercise: Exercise) -> list[str]:
    solution = course.root / "solutions" / exercise.file
    stub = course.root / exercise.path
    if not solution.is_file() or not stub.is_file():
        return [f"solutions/{exercise.file} and {exercise.path} must both exist"]
    generated = stub_of(solution.read_text(encoding="utf-8"), f"solutions/{exercise.file}")
    problems = []
    if generated != stub.read_text(encoding="utf-8"):
        problems.append(f"{exercise.path} is not what the solution generates: stepup teach stubs")
    todos = {int(n) for n in re.findall(r"TODO\(task (\d+)\)", generated)}
    if todos != {t.n for t in exercise.tasks}:
        problems.append(f"the stub's TODO(task N) markers name tasks {sorted(todos)}")
    if not exercise.is_stub(stub.read_bytes()):
        problems.append(f"course.toml does not pin {exercise.path}: stepup teach stubs")
    return problems


def _graded(course: Course, exercise: Exercise, folder: Path) -> Score:
    outcome = run_graded(folder, [exercise.id], course, include_hidden=True)
    result = score(outcome.results, course, [exercise.id])
    result.problems += outcome.problems + [f.reason for f in outcome.flags]
    return result


def _lost(result: Score) -> list[str]:
    return [
        f"task {t.task.n} lost: {t.first_failure.name}: {t.first_failure.message}"
        for t in result.tasks
        if not t.passed and t.first_failure is not None
    ]


def solution_problems(course: Course, exercise: Exercise) -> list[str]:
    result = _graded(course, exercise, course.root / "solutions")
    return _lost(result) + result.problems


def stub_score_problems(course: Course, exercise: Exercise) -> list[str]:
    result = _graded(course, exercise, course.root / "exercises")
    return [f"task {t.task.n} passes on the untouched stub" for t in result.tasks if t.passed]


def in_order(course: Course, exercise: Exercise, solved: int) -> list[str]:
    """With the answers of tasks 1..``solved`` written and the rest left as in the stub."""
    solution = (course.root / "solutions" / exercise.file).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="stepup-in-order-") as folder:
        Path(folder).chmod(0o755)  # the submission process may run as another user
        (Path(folder) / exercise.file).write_text(stub_of(solution, solved=range(1, solved + 1)))
        result = _graded(course, exercise, Path(folder))
    problems = []
    for task_score in result.tasks:
        failure = task_score.first_failure
        if task_score.task.n <= solved and not task_score.passed and failure is not None:
            problems.append(
                f"task {task_score.task.n} fails with tasks 1 to {solved} written, so a test of"
                f" it needs a later task's code: {failure.name}: {failure.message}"
            )
        elif task_score.task.n > solved and task_score.passed:
            problems.append(f"task {task_score.task.n} passes before it is written")
    return problems


def lost_under(course: Course, mutant: Mutant, exercise_ids: list[str]) -> list[str]:
    """The tasks of ``exercise_ids`` the reference answers lose with ``mutant`` applied."""
    with tempfile.TemporaryDirectory(prefix="stepup-mutant-") as folder:
        kit = mutant_kit(mutant, course.root, Path(folder))
        copy = load_course(kit)
        outcome = run_graded(kit / "solutions", exercise_ids, copy, include_hidden=True)
        result = score(outcome.results, copy, exercise_ids)
    return sorted(t.task.key for t in result.tasks if not t.passed)


def mutant_problems(course: Course, mutant: Mutant) -> list[str]:
    lost = lost_under(course, mutant, mutant.exercises)
    return [] if lost == sorted(mutant.breaks) else [f"lost {lost}, expected {mutant.breaks}"]


def is_shared(mutant: Mutant) -> bool:
    """A mutant of the app's own code (a guard, the recency rule): it may break any lesson."""
    return not mutant.file.startswith(("solutions/", "exercises/"))


def spared(course: Course, exercise: Exercise, mutant: Mutant) -> list[str]:
    """A mutant of shared code that names other exercises must leave this one whole, or its
    ``breaks`` must say which of this exercise's tasks it breaks too."""
    lost = lost_under(course, mutant, [exercise.id])
    return [f"it breaks {lost} too: add them to its breaks in {MUTANTS_FILE}"] if lost else []


def route_problems(course: Course, exercise: Exercise) -> list[str]:
    """The exercise's routes must not be the reference app's: the reference routers are
    mounted first, so the exercise's route behind the same method and path is never reached."""
    if not exercise.router:
        return []
    from course_app.app import create_app
    from course_kit.impl import resolve
    from course_kit.people import lab_settings

    with tempfile.TemporaryDirectory(prefix="stepup-routes-") as folder:
        reference = create_app(lab_settings(Path(folder)))
    taken = set(endpoints(reference.routes))
    (router,) = resolve(str(course.root / "solutions")).routers([exercise])
    return [
        f"{method} {path} is served by the reference app already, which is mounted first:"
        " remove that route from course_app/routes/ (docs/authoring.md, 'Taking over a route"
        " of the app')"
        for method, path in endpoints(router.routes)
        if (method, path) in taken
    ]


def endpoints(routes: Sequence[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every HTTP route of ``routes``, looking inside included routers
    (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from endpoints(route.original_router.routes)
        for method in sorted(getattr(route, "methods", None) or ()):
            yield method, str(route.path)


def notebook_problems(course: Course, exercise: Exercise, impl: str) -> list[str]:
    from course_kit.notebook.__main__ import run
    from course_kit.notebook.judging import again_plan, run_problems

    path = course.root / exercise.notebook
    if not path.is_file():
        return [f"{exercise.notebook} is missing"]
    again = again_plan if impl == "solutions" else None
    done = run(path, impl, again=again, kit_root=course.root)
    return run_problems(done, exercise.id)


def release_problems(course: Course) -> list[str]:
    from course_kit.teach.publish.release import build_bundle

    with tempfile.TemporaryDirectory(prefix="stepup-verify-") as folder:
        build_bundle(Path(folder) / "student", course.root)  # KitError when it would leak
    return []
