"""``stepup teach release``: the student bundle, and the check that it gives nothing away.

What ships: the app, the student half of the kit (``course_kit`` without ``teach/``), the
exercise stubs, the notebooks (without outputs), the visible graded tests, the manifest, a
README and a Makefile of its own (``student/README.md``, ``lab.mk``) and the docs that README
links to. What never ships: ``solutions/``, the hidden tests, the instructor's commands, the
maintainers' tests and docs, git history. The check does not trust the file list: it looks for the
reference answers themselves (any function or assignment of a solution that differs from its
stub, found in any Python file), for hidden test files by content, and for notebook outputs.
"""

import ast
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from course_kit.kit import INSTRUCTOR_ONLY, KIT_ROOT, STUDENT_PARTS, KitError
from course_kit.manifest import load_course, stub_digest

IGNORED = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}


def files_of(
    kit_root: Path, parts: Iterable[str], exclude: Iterable[str] = ()
) -> Iterator[tuple[Path, str]]:
    """(path, relative name) of every file of ``parts``, minus caches and ``exclude`` folders."""
    skipped = tuple(e.rstrip("/") + "/" for e in exclude)
    for part in parts:
        base = kit_root / part
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for path in paths:
            relative = path.relative_to(kit_root).as_posix()
            if (
                path.is_file()
                and not IGNORED & set(path.relative_to(kit_root).parts)
                and path.suffix != ".pyc"
                and not relative.startswith(skipped)
            ):
                yield path, relative


def _statements(tree: ast.Module) -> Iterator[tuple[str, ast.stmt]]:
    """Top-level functions and assignments, and the methods of top-level classes."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{sub.name}", sub
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            yield ast.unparse(node).split("=")[0].strip().split(":")[0], node


def answers(kit_root: Path) -> dict[str, str]:
    """The reference answers, as AST dumps: what a solution has and its stub does not."""
    found: dict[str, str] = {}
    if not (kit_root / "solutions").is_dir():
        return found
    for exercise in load_course(kit_root).exercises:
        solution = kit_root / "solutions" / exercise.file
        stub = kit_root / "exercises" / exercise.file
        if not solution.is_file() or not stub.is_file():
            continue
        stub_dumps = {ast.dump(n) for _, n in _statements(ast.parse(stub.read_bytes()))}
        for name, node in _statements(ast.parse(solution.read_bytes())):
            if ast.dump(node) not in stub_dumps:
                found[ast.dump(node)] = f"{exercise.id} {name}"
    return found


def _entries(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield file.relative_to(path).as_posix(), file.read_bytes()
    else:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if not member.is_dir():
                    yield member.filename, archive.read(member)


def _notebook_outputs(data: bytes) -> bool:
    try:
        cells = json.loads(data).get("cells", [])
    except (ValueError, AttributeError):
        return False
    return any(
        cell.get("outputs") or cell.get("execution_count") is not None
        for cell in cells
        if cell.get("cell_type") == "code"
    )


def check_tree(path: Path, kit_root: Path = KIT_ROOT, hidden_allowed: bool = False) -> list[str]:
    """Why ``path`` (a folder or zip) must not go to students; empty when it is clean."""
    hidden_dir = load_course(kit_root).grading.hidden_dir.rstrip("/") + "/"
    digest = stub_digest  # SHA-256, as the pins
    solution_files = {
        digest(data): rel
        for p, rel in files_of(kit_root, ["solutions"])
        if (data := p.read_bytes()).strip()
    }
    hidden_files = {digest(p.read_bytes()): rel for p, rel in files_of(kit_root, [hidden_dir])}
    reference = answers(kit_root)
    solution_trees = {
        ast.dump(ast.parse(p.read_bytes())): rel
        for p, rel in files_of(kit_root, ["solutions"])
        if p.suffix == ".py"
    }
    pinned = {f"exercises/{e.file}": e.stub_sha256 for e in load_course(kit_root).exercises}
    problems: list[str] = []
    for name, data in _entries(path):
        parts = PurePosixPath(name).parts
        if name in pinned and digest(data) != pinned[name]:
            problems.append(
                f"{name}: not the starting stub pinned in course.toml (edited by hand? restore"
                " it, or run stepup teach stubs after a deliberate change)"
            )
        if "solutions" in parts:
            problems.append(f"{name}: the solutions folder")
        elif ".git" in parts:
            problems.append(f"{name}: git history (it holds the solutions)")
        elif not hidden_allowed and (name.startswith(hidden_dir) or digest(data) in hidden_files):
            problems.append(f"{name}: a hidden test file")
        elif digest(data) in solution_files:
            problems.append(f"{name}: a copy of {solution_files[digest(data)]}")
        elif name.endswith(".py"):
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError):
                continue
            leaked = sorted(
                {reference[d] for _, n in _statements(tree) if (d := ast.dump(n)) in reference}
            )
            if ast.dump(tree) in solution_trees:
                problems.append(f"{name}: the code of {solution_trees[ast.dump(tree)]}")
            elif leaked:
                problems.append(f"{name}: holds the reference answer of {', '.join(leaked)}")
        elif name.endswith(".ipynb") and _notebook_outputs(data):
            problems.append(f"{name}: committed with outputs")
    return problems


STUDENT_FILES = Path(__file__).parent / "student"  # the bundle's own README
LINK = re.compile(r"\]\(([^)\s]+)\)")  # a Markdown link or image: [text](target)


def relative_links(markdown: str) -> list[str]:
    """The link targets of a Markdown text that are files of the same tree (no scheme, no
    bare anchor), without their ``#anchor``."""
    return [
        target.split("#")[0]
        for target in LINK.findall(markdown)
        if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", target)
    ]


def linked_files(root: Path, start: str, text: str) -> set[str]:
    """Every file of ``root`` that ``text`` (the Markdown file ``start``) links to, following
    the Markdown files it reaches: what a reader can open from ``start``."""
    found: set[str] = set()
    todo = [(start, text)]
    while todo:
        name, markdown = todo.pop()
        for target in relative_links(markdown):
            path = (PurePosixPath(name).parent / target).as_posix()
            resolved = os.path.normpath(path)
            if resolved in found or not (root / resolved).is_file() or resolved in INSTRUCTOR_ONLY:
                continue
            found.add(resolved)
            if resolved.endswith(".md"):
                todo.append((resolved, (root / resolved).read_text(encoding="utf-8")))
    return found


def dead_links(tree: Path) -> list[str]:
    """``file.md: target`` for every relative link of ``tree``'s Markdown that leads nowhere."""
    return [
        f"{md.relative_to(tree).as_posix()}: {target}"
        for md in sorted(tree.rglob("*.md"))
        for target in relative_links(md.read_text(encoding="utf-8"))
        if not (md.parent / target).exists()
    ]


def build_bundle(target: Path, kit_root: Path = KIT_ROOT) -> Path:
    """Write the student bundle to ``target`` (a new folder, or a ``.zip``) and check it;
    KitError (and nothing written) when it would leak or a link of its docs leads nowhere.

    Besides the student parts of the kit: its own README (the student's half of the story),
    ``lab.mk`` as its Makefile (no maintainers' or instructor's targets), and the docs that
    README links to."""
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise KitError(f"{target} already exists and is not empty")
    hidden = load_course(kit_root).grading.hidden_dir
    readme = (STUDENT_FILES / "README.md").read_text(encoding="utf-8")
    staging = Path(tempfile.mkdtemp(prefix="stepup-release-"))
    try:
        for path, relative in files_of(kit_root, STUDENT_PARTS, [hidden, *INSTRUCTOR_ONLY]):
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, staging / relative)
        for relative in sorted(linked_files(kit_root, "README.md", readme)):
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(kit_root / relative, staging / relative)
        (staging / "README.md").write_text(readme, encoding="utf-8")
        shutil.copy2(kit_root / "lab.mk", staging / "Makefile")
        shutil.copy2(kit_root / ".gitignore", staging / ".gitignore")
        problems = check_tree(staging, kit_root)
        if problems:
            raise KitError("the bundle would leak: " + "; ".join(problems))
        if dead := dead_links(staging):
            raise KitError("links in the bundle lead nowhere: " + "; ".join(dead))
        if target.suffix == ".zip":
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                for file in sorted(p for p in staging.rglob("*") if p.is_file()):
                    archive.write(file, file.relative_to(staging).as_posix())
        else:
            shutil.copytree(staging, target, dirs_exist_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
