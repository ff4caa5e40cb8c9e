"""A throwaway copy of the kit to grade one submission in: the app, our tests and the manifest,
the starting stubs with the submission's exercise files laid over them, and no ``solutions/``.

The copy is fingerprinted when it is made; :meth:`Sandbox.verify` tells whether anything in it
but the scratch space changed since (tests, app code, manifest), and puts our files back.
"""

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course_app.grading.runner import scratch_root

KIT_PARTS = ("course_app", "tests/conftest.py", "tests/graded", "course.toml", "pyproject.toml")
IGNORED = shutil.ignore_patterns("*.pyc", "__pycache__", ".ipynb_checkpoints", "*.log")


def _fingerprint(root: Path, parts: tuple[str, ...]) -> dict[str, str]:
    prints = {}
    for part in parts:
        base = root / part
        for path in [base] if base.is_file() else sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                key = str(path.relative_to(root))
                prints[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return prints


@dataclass
class Sandbox:
    root: Path  # holds kit/ and scratch/
    kit: Path
    scratch: Path
    pristine: Path
    prints: dict[str, str] = field(default_factory=dict)

    @property
    def exercises(self) -> Path:
        return self.kit / "exercises"

    def verify(self) -> list[str]:
        """Files that differ from what was copied in (restored on the way)."""
        now = _fingerprint(self.kit, KIT_PARTS)
        changed = sorted(
            k for k in self.prints.keys() | now.keys() if self.prints.get(k) != now.get(k)
        )
        for relative in changed:
            target = self.kit / relative
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            source = self.pristine / relative
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return changed

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def build(kit_root: Path, files: dict[str, bytes]) -> Sandbox:
    """Copy the kit (never ``solutions/``) and lay ``files`` over its ``exercises/``."""
    root = Path(tempfile.mkdtemp(prefix="stepup-grade-", dir=scratch_root()))
    kit, scratch = root / "kit", root / "scratch"
    scratch.mkdir()
    for part in (*KIT_PARTS, "exercises"):
        source, target = kit_root / part, kit / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, target)
    for name, content in files.items():
        (kit / "exercises" / name).write_bytes(content)
    sandbox = Sandbox(root, kit, scratch, kit_root, _fingerprint(kit, KIT_PARTS))
    return sandbox
