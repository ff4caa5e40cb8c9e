"""The manifest agrees with the tree it describes: pinned stubs, hints tied to real checks."""

import ast

from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course, stub_digest

COURSE = load_course()


def test_the_pinned_stubs_are_the_committed_ones() -> None:
    """course.toml pins each stub's bytes: "untouched" is judged against the pin, and a bundle
    whose stubs differ from it is refused (`stepup teach stubs` writes and pins them)."""
    course = COURSE
    stale = [
        e.id
        for e in course.exercises
        if stub_digest((KIT_ROOT / "exercises" / e.file).read_bytes()) != e.stub_sha256
    ]
    assert stale == [], f"run `stepup teach stubs`: the pins of {stale} are not the stubs"


def graded_tests() -> set[tuple[str, int, str]]:
    """(exercise, task, test name) of every graded test, read from the files."""
    found = set()
    for path in (KIT_ROOT / "tests" / "graded").rglob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Call) and "task" in ast.unparse(decorator.func):
                        exercise, n = (ast.literal_eval(a) for a in decorator.args)
                        found.add((exercise, n, node.name))
    return found


def test_every_tied_hint_names_a_check_of_its_task() -> None:
    known = graded_tests()
    orphans = [
        f"{task.key}: {name}"
        for task in COURSE.tasks
        for name in task.hint_for
        if (task.exercise, task.n, name) not in known
    ]
    assert orphans == [], f"hints tied to no graded test of their task: {orphans}"
