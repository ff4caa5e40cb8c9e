"""Exercises and solutions are line-for-line twins: each stub is what its marked solution
generates (``stepup teach stubs``), and the diff shows only the answers, each under the
``TODO(task N)`` it answers."""

import ast
import difflib
import re
from pathlib import Path

import pytest

from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course
from course_kit.teach.author.stubs import BEGIN, END, STUB, stub_of

COURSE = load_course()
TODO = re.compile(r"TODO\(task (\d+)\)")


def read(folder: str, file: str) -> str:
    return (KIT_ROOT / folder / file).read_text(encoding="utf-8")


def top_level(source: str) -> dict[str, str | None]:
    """Top-level functions/classes (and their methods) → docstring."""
    found: dict[str, str | None] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = ast.get_docstring(node)
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef):
                        found[f"{node.name}.{sub.name}"] = ast.get_docstring(sub)
    return found


def imports(source: str) -> list[str]:
    return [
        ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.Import | ast.ImportFrom)
    ]


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_the_stub_is_what_the_solution_generates(exercise) -> None:
    generated = stub_of(read("solutions", exercise.file), f"solutions/{exercise.file}")
    assert generated == read("exercises", exercise.file), (
        f"exercises/{exercise.file} is not what solutions/{exercise.file} generates:"
        " run `stepup teach stubs`"
    )


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_exercise_and_solution_are_twins(exercise) -> None:
    stub, marked = read("exercises", exercise.file), read("solutions", exercise.file)
    solution = "".join(  # the answer as it runs: the marker lines and the stub's lines dropped
        line
        for line in marked.splitlines(keepends=True)
        if not any(m.match(line.rstrip("\n")) for m in (BEGIN, END, STUB))
    )
    assert ast.get_docstring(ast.parse(stub)) == ast.get_docstring(ast.parse(solution))
    assert imports(stub) == imports(solution), "imports differ"
    assert top_level(stub) == top_level(solution), "functions, classes or docstrings differ"
    matcher = difflib.SequenceMatcher(a=stub.splitlines(), b=solution.splitlines(), autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "equal":
            # The TODO may sit in the hunk or just above it (a comment line kept in both).
            hunk = stub.splitlines()[max(0, a1 - 3) : max(a2, a1 + 1)]
            assert any(TODO.search(line) for line in hunk), (
                f"exercises/{exercise.file}:{a1 + 1} differs from the solution without a"
                f" TODO(task N) marker: {hunk or solution.splitlines()[b1:b2]}"
            )


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_every_task_has_a_todo_and_every_todo_a_task(exercise) -> None:
    todos = {int(n) for n in TODO.findall(read("exercises", exercise.file))}
    assert todos == {t.n for t in exercise.tasks}


def test_manifest_names_existing_files() -> None:
    for exercise in COURSE.exercises:
        assert (KIT_ROOT / "exercises" / exercise.file).is_file()
        assert (KIT_ROOT / "solutions" / exercise.file).is_file()
        tests = list((KIT_ROOT / "tests" / "graded").glob(f"test_{exercise.id}_*.py"))
        assert len(tests) == 1, f"{exercise.id}: expected one graded test file, found {tests}"
        assert Path(exercise.file).stem.startswith(exercise.id)
        assert Path(tests[0]).stem == f"test_{Path(exercise.file).stem}"
