"""``stepup teach new``: the files of a new exercise, wired together and already verifiable.

It writes the marked solution and the stub it generates, visible and hidden graded tests with
one test per task that fails on the stub, a notebook skeleton, and the manifest entry with its
pin. Every placeholder an instructor must replace says ``TODO(author)``; ``stepup teach
verify`` lists the ones left. With ``router=True`` each task is a route of the app (task 1
guarded by ``RecentAuth``); without, each task is a function the graded tests call.
"""

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from course_kit.kit import KitError
from course_kit.manifest import Course, load_course, parse
from course_kit.notebook.__main__ import strip
from course_kit.teach.author.mutants import MUTANTS_FILE
from course_kit.teach.author.stubs import write_stubs

PLACEHOLDER = "TODO(author)"


@dataclass(frozen=True)
class NewExercise:
    id: str  # ex06
    slug: str  # turn_off_2fa
    title: str
    tasks: int
    router: bool

    @property
    def file(self) -> str:
        return f"{self.id}_{self.slug}.py"

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.id[2:]}_{self.slug}.ipynb"


def new_exercise(
    title: str,
    slug: str,
    tasks: int = 3,
    router: bool = False,
    course: Course | None = None,
) -> list[Path]:
    """Scaffold the next exercise of ``course``; returns the files written."""
    course = course or load_course()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
        raise KitError(f"the name {slug!r} must be lower case letters, digits and _ (a file name)")
    if not 1 <= tasks <= 9:
        raise KitError("an exercise has 1 to 9 tasks")
    number = max(int(e.id[2:]) for e in course.exercises) + 1
    new = NewExercise(f"ex{number:02d}", slug, title, tasks, router)
    root = course.root
    files = {
        root / "solutions" / new.file: solution(new),
        root / "tests" / "graded" / f"test_{new.file}": graded_tests(new),
        root / course.grading.hidden_dir / f"test_{new.id}_{slug}_hidden.py": hidden_tests(new),
        root / new.notebook: notebook(new),
    }
    taken = [str(p.relative_to(root)) for p in files if p.exists()]
    if taken:
        raise KitError(f"these files exist already: {', '.join(taken)}")
    manifest = root / "course.toml"
    text = manifest.read_text(encoding="utf-8")
    updated = with_entry(text, manifest_entry(new))
    parse(tomllib.loads(updated), root)  # validated before anything is written
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    strip(root / new.notebook)  # the same bytes a save from JupyterLab and `make strip` give
    manifest.write_text(updated, encoding="utf-8")
    with (root / MUTANTS_FILE).open("a", encoding="utf-8") as fh:
        fh.write(mutant_entries(new))
    load_course.cache_clear()
    write_stubs(load_course(root), [new.id])
    return [*files, root / "exercises" / new.file, manifest, root / MUTANTS_FILE]


def with_entry(manifest: str, entry: str) -> str:
    """``entry`` placed after the last exercise, before the comments of ``[grading]``."""
    found = re.search(r"((?:^#[^\n]*\n)*)^\[grading\]", manifest, re.MULTILINE)
    at = found.start() if found else len(manifest)
    return manifest[:at].rstrip("\n") + "\n\n" + entry + "\n" + manifest[at:]


def manifest_entry(new: NewExercise) -> str:
    lines = [
        "[[exercises]]",
        f'id = "{new.id}"',
        f"title = {json.dumps(new.title)}",
        f'file = "{new.file}"',
        f'notebook = "{new.notebook}"',
        f"router = {'true' if new.router else 'false'}",
        'stub_sha256 = ""  # the pristine stub (stepup teach stubs)',
    ]
    for n in range(1, new.tasks + 1):
        lines += [
            "",
            "[[exercises.tasks]]",
            f"n = {n}",
            f'title = "{PLACEHOLDER}: what task {n} asks, in a few words"',
            "points = 1",
            f'hints = ["{PLACEHOLDER}: a hint that names the tool, never the answer."]',
        ]
    return "\n".join(lines) + "\n"


def mutant_entries(new: NewExercise) -> str:
    """One buggy variant per task, for ``tests/meta/mutants.toml``: each loses its task."""
    entries = []
    for n in range(1, new.tasks + 1):
        if new.router and n == 1:
            old, bug = "    _: RecentAuth,  # SOLUTION", "    # SOLUTION"
        elif new.router:
            old, bug = f'{{"message": "task {n} done"}}', '{"message": "not done"}'
        else:
            old, bug = f'    return "task {n} done"', '    return "not done"'
        entries += [
            "",
            "[[mutant]]",
            f"name = {json.dumps(f'{new.id}: {PLACEHOLDER}: the mistake this is (task {n})')}",
            f'file = "solutions/{new.file}"',
            f"old = {json.dumps(old)}",
            f"new = {json.dumps(bug)}",
            f'breaks = ["{new.id}/task{n}"]',
        ]
    return "\n".join(entries) + "\n"


def solution(new: NewExercise) -> str:
    head = [
        f'"""Exercise {int(new.id[2:])}: {new.title}.',
        "",
        f"{PLACEHOLDER}: what the student builds and why, in a few sentences (the stub has",
        "this docstring too).",
        '"""',
        "",
    ]
    if new.router:
        head += [
            "from fastapi import APIRouter",
            "",
            "from course_app.deps import CurrentUser, RecentAuth",
            "",
            f'router = APIRouter(tags=["{new.id}"])',
        ]
    body = []
    for n in range(1, new.tasks + 1):
        if new.router and n == 1:
            body += [
                "",
                "",
                f'@router.post("/{new.id}/task-1")',
                "def task_1(",
                "    user: CurrentUser,",
                "    # TODO(task 1): any signed-in session may do this. Require a recent"
                " confirmation.",
                "    _: RecentAuth,  # SOLUTION",
                ") -> dict[str, str]:",
                f'    """{PLACEHOLDER}: what this route does."""',
                '    return {"message": f"done for {user.email}"}',
            ]
            continue
        decorator = [f'@router.post("/{new.id}/task-{n}")'] if new.router else []
        returns = "dict[str, str]" if new.router else "str"
        answer = f'{{"message": "task {n} done"}}' if new.router else f'"task {n} done"'
        body += [
            "",
            "",
            *decorator,
            f"def task_{n}() -> {returns}:",
            f'    """{PLACEHOLDER}: what task {n} computes."""',
            f"    # TODO(task {n}): {PLACEHOLDER}: what to write, in one line.",
            "    # BEGIN SOLUTION",
            f"    return {answer}",
            "    # END SOLUTION",
            f'    # STUB raise NotImplementedError("task {n}: {PLACEHOLDER}")',
        ]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(head + body)) + "\n"


def graded_tests(new: NewExercise) -> str:
    fixture = (
        [
            "def lab(make_lab) -> Lab:",
            f"    return make_lab(\"{new.id}\")  # the student's app: this exercise's routes",
        ]
        if new.router
        else [
            "def student(student_of) -> Student:",
            f'    return student_of("{new.id}")  # calls into the student\'s file, in its sandbox',
        ]
    )
    names = "Lab, expect, expect_status, task" if new.router else "Student, expect, task"
    head = [
        f'"""Graded tests for exercise {int(new.id[2:])}: {new.title}."""',
        "",
        "import pytest",
        "",
        f"from course_kit.testing import {names}",
        "",
        "",
        "@pytest.fixture",
        *fixture,
    ]
    body = []
    for n in range(1, new.tasks + 1):
        body += ["", "", f'@task("{new.id}", {n})']
        if new.router and n == 1:
            body += [
                "def test_a_stale_session_is_asked_to_confirm(lab: Lab) -> None:",
                '    alice = lab.person("alice@example.com")',
                f'    r = alice.post("/{new.id}/task-1")',
                f'    expect_status(r, 403, "POST /{new.id}/task-1, not confirmed",'
                ' "reauth_required")',
                "    lab.confirm(alice)",
                f'    r = alice.post("/{new.id}/task-1")',
                f'    expect_status(r, 200, "POST /{new.id}/task-1 right after confirming")',
            ]
        elif new.router:
            body += [
                f"def test_task_{n}(lab: Lab) -> None:",
                '    alice = lab.person("alice@example.com")',
                f'    r = alice.post("/{new.id}/task-{n}")',
                f'    body = expect_status(r, 200, "POST /{new.id}/task-{n}")',
                f'    expect(body.get("message") == "task {n} done", f"the answer was {{body}}")',
            ]
        else:
            body += [
                f"def test_task_{n}(student: Student) -> None:",
                f'    answer = student.call("task_{n}")',
                f'    expect(answer == "task {n} done", f"task_{n}() returned {{answer!r}}")',
            ]
    return "\n".join(head + body) + "\n"


def hidden_tests(new: NewExercise) -> str:
    check = "expect_status" if new.router else "expect"
    call = (
        [
            "def test_task_1_other_inputs(make_lab) -> None:",
            f'    lab = make_lab("{new.id}")',
            '    bob = lab.person("bob@example.com")',
            f'    r = bob.post("/{new.id}/task-1")',
            f'    expect_status(r, 403, "POST /{new.id}/task-1 unconfirmed", "reauth_required")',
        ]
        if new.router
        else [
            "def test_task_1_other_inputs(student_of) -> None:",
            f'    answer = student_of("{new.id}").call("task_1")',
            '    expect(answer == "task 1 done", f"task_1() returned {answer!r}")',
        ]
    )
    return (
        "\n".join(
            [
                f'"""Hidden graded tests for exercise {int(new.id[2:])}: run when graded, never'
                " shipped.",
                "",
                f"{PLACEHOLDER}: other inputs to the rules the visible tests teach, not new rules.",
                '"""',
                "",
                f"from course_kit.testing import {check}, task",
                "",
                "",
                f'@task("{new.id}", 1)',
                *call,
            ]
        )
        + "\n"
    )


def notebook(new: NewExercise) -> str:
    """A notebook in the course's shape: the story, then per task a "Your turn" and an outcomes
    table that turns ✓ when the task is done, one check cell, what was learned."""

    def markdown(text: str) -> dict[str, object]:
        return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}

    def code(text: str) -> dict[str, object]:
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": text.splitlines(keepends=True),
        }

    shown = f"exercises/{new.file}"
    cells = [
        markdown(
            f"# Exercise {int(new.id[2:])}: {new.title}\n\n**Goal.** {PLACEHOLDER}: one sentence."
            f"\n\n## The story\n\n{PLACEHOLDER}: the attack first, told in a few sentences."
        ),
        markdown(f"Start the lab; it runs your `{shown}` and picks up every change you save."),
        code("import course_kit.notebook as nb\n\nlab = nb.start()\nlab"),
    ]
    for n in range(1, new.tasks + 1):
        if new.router and n == 1:
            check = (
                'alice = lab.person("alice@example.com")\n'
                f'stale = alice.post("/{new.id}/task-1")\n'
                "lab.confirm(alice)\n"
                f'fresh = alice.post("/{new.id}/task-1")\n'
                "nb.outcomes(\n"
                "    [\n"
                '        ("signed in, not confirmed", "403 reauth_required", stale),\n'
                '        ("right after confirming", "200", fresh),\n'
                "    ]\n"
                ")"
            )
        elif new.router:
            check = (
                'alice = lab.person("alice@example.com")\n'
                f'nb.outcomes([("task {n}", "200", alice.post("/{new.id}/task-{n}"))])'
            )
        else:
            check = (
                f'task_{n} = lab.exercise("{new.id}").task_{n}\n'
                f'nb.outcomes([("task {n}", "task {n} done", nb.attempt(task_{n}))])'
            )
        cells += [
            markdown(f"## Task {n}: {PLACEHOLDER}\n\n{PLACEHOLDER}: what to see first."),
            markdown(
                f"### Your turn: task {n}\n\nOpen `{shown}` and find `TODO(task {n})`. Write it,"
                " save, and run the cell below again: it should show only ✓."
            ),
            code(check),
        ]
    cells += [
        markdown(
            "## Check\n\nThe graded tests of this exercise, the ones your instructor runs (less"
            " the hidden ones)."
        ),
        code(f'nb.check("{new.id}")'),
        markdown(f"## What you learned\n\n- {PLACEHOLDER}"),
    ]
    kernel = {"display_name": "Python 3 (step-up lab)", "language": "python", "name": "python3"}
    document = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4}
    document["nbformat_minor"] = 5
    for index, cell in enumerate(cells):
        cell["id"] = f"nb{new.id[2:]}-{index:02d}"
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
