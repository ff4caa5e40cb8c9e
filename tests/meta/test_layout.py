"""The layout's rules, read from the imports themselves (every ``import`` that runs, at any
depth of a module, counts): the app never imports the kit; the judge never imports the
submission process's code (the wire protocol is what both share); the sandbox process imports
nothing of the kit outside ``SANDBOX_PARTS`` (all it can see when confined); no module imports
itself back."""

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from course_kit.kit import KIT_ROOT, SANDBOX_PARTS

PACKAGES = ("course_app", "course_kit")


def module_name(path: Path) -> str:
    parts = path.relative_to(KIT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(p): p for package in PACKAGES for p in sorted((KIT_ROOT / package).rglob("*.py"))
}


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *runtime_nodes(child)])
            continue
        yield node
        yield from runtime_nodes(node)


@cache
def imports_of(module: str) -> frozenset[str]:
    """The modules of this tree that ``module`` imports (``from x import y`` counts as ``x.y``
    when ``x.y`` is a module, else as ``x``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return frozenset(found)


def closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += imports_of(current)
    return seen


def test_the_app_never_imports_the_kit() -> None:
    offenders = {
        m: sorted(i for i in imports_of(m) if i.startswith("course_kit"))
        for m in MODULES
        if m.startswith("course_app")
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_judge_never_imports_the_submission_process() -> None:
    """The judge knows the wire protocol and how the process is confined, never the code that
    runs inside it: what crosses is what the protocol says."""
    inside = "course_kit.grading.sandbox.process"
    judge = [m for m in MODULES if m.startswith("course_kit.grading.judge")]
    offenders = {m: sorted(i for i in closure(m) if i == inside) for m in judge}
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_sandbox_process_needs_only_what_it_can_see() -> None:
    visible = [
        part.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for part in SANDBOX_PARTS
    ]
    needed = closure("course_kit.grading.sandbox.process")
    unseen = sorted(
        m
        for m in needed
        if m.startswith("course_kit") and not any(m == v or m.startswith(v + ".") for v in visible)
    )
    assert unseen == [], f"the sandbox process imports what its sandbox does not hold: {unseen}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_cycle(module: str) -> None:
    back = sorted(i for i in imports_of(module) if module in closure(i))
    assert back == [], f"{module} and {back} import each other (through other modules perhaps)"
