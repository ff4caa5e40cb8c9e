"""The implementation switch: which exercise files the app and the graded tests use.

``solutions`` (the reference), ``exercises`` (the student's working copy) or a PATH to a
submission (a folder holding ``exercises/``, or the exercise files themselves). Read in one
place: ``--impl`` for pytest, ``STEPUP_IMPL`` otherwise. A missing or broken file is a clear
error naming the file, never a silent fallback to the solutions.
"""

import importlib.util
import itertools
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from course_app.manifest import KIT_ROOT, Exercise, load_course

ENV_VAR = "STEPUP_IMPL"
# A student bundle ships without solutions/ (stepup release): there, their own work is the default.
DEFAULT = "solutions" if (KIT_ROOT / "solutions").is_dir() else "exercises"
_counter = itertools.count()


class ImplementationError(Exception):
    """A student-facing message: what is missing or broken, and where."""


@dataclass(frozen=True)
class Implementation:
    spec: str
    folder: Path

    @property
    def label(self) -> str:
        return f"{self.spec} ({self.folder})"

    def path_of(self, exercise: Exercise) -> Path:
        return self.folder / exercise.file

    def where(self, exc: BaseException) -> str:
        """``exercises/ex01_email_change.py:33``: the last line of this implementation's files
        the exception went through (else of the kit, else any); empty without a traceback."""
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if Path(f.filename).is_relative_to(self.folder)]
        kit = [f for f in frames if Path(f.filename).is_relative_to(KIT_ROOT)]
        if not (frame := (ours or kit or frames or [None])[-1]):
            return ""
        path = Path(frame.filename)
        if path.is_relative_to(self.folder):
            shown = f"{self.folder.name}/{path.relative_to(self.folder).as_posix()}"
        elif path.is_relative_to(KIT_ROOT):
            shown = path.relative_to(KIT_ROOT).as_posix()
        else:
            shown = path.name
        return f"{shown}:{frame.lineno}"

    def shown(self, exercise: Exercise) -> str:
        """How to name the file to a student: ``exercises/ex02_api_keys.py``."""
        return f"{self.folder.name}/{exercise.file}"

    def load(self, exercise_id: str) -> ModuleType:
        """Import the exercise file afresh (so edits show at once in a notebook)."""
        exercise = load_course().exercise(exercise_id)
        path = self.path_of(exercise)
        shown = self.shown(exercise)
        if not path.is_file():
            raise ImplementationError(f"{shown} is missing")
        name = f"stepup_impl_{next(_counter)}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImplementationError(f"{shown} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pydantic look their module up by name
        try:
            self._run(spec.loader, module)
        except SyntaxError as exc:
            raise ImplementationError(
                f"{shown} has a syntax error on line {exc.lineno}: {exc.msg}"
            ) from None
        except Exception as exc:
            raise ImplementationError(
                f"{shown} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        return module

    @staticmethod
    def _run(loader: Any, module: ModuleType) -> None:
        try:
            loader.exec_module(module)
        except BaseException:
            # As importlib does: a module that failed is not kept, nor what it allocated.
            sys.modules.pop(module.__name__, None)
            module.__dict__.clear()
            raise

    def get(self, exercise_id: str, attribute: str, module: ModuleType | None = None) -> Any:
        """``attribute`` of the exercise module (loaded now unless given), or a clear error."""
        module = module or self.load(exercise_id)
        if not hasattr(module, attribute):
            exercise = load_course().exercise(exercise_id)
            raise ImplementationError(f"{self.shown(exercise)} has no {attribute}")
        return getattr(module, attribute)


def resolve(spec: str | None = None) -> Implementation:
    """Turn ``solutions``, ``exercises`` or a path into an :class:`Implementation`."""
    spec = spec or os.environ.get(ENV_VAR) or DEFAULT
    if spec in ("solutions", "exercises"):
        folder = KIT_ROOT / spec
    else:
        path = Path(spec).expanduser().resolve()
        folder = path / "exercises" if (path / "exercises").is_dir() else path
    if not folder.is_dir():
        raise ImplementationError(f"--impl {spec}: no such folder ({folder})")
    return Implementation(spec, folder)
