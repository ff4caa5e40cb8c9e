"""The implementation switch: which exercise files the app and the graded tests use.

``solutions`` (the reference), ``exercises`` (the student's working copy) or a PATH to a
submission (a folder holding ``exercises/``, or the exercise files themselves). Read in one
place: ``--impl`` for pytest and ``stepup``, ``STEPUP_IMPL`` otherwise. A missing or broken file
is a clear error naming the file, never a silent fallback to the solutions.

This module runs inside the sandbox too (it imports a submission's files there), so it needs
nothing of the kit but :mod:`course_kit.kit`: exercises are named by anything with an ``id``,
a ``file`` and ``router`` and ``policy`` flags (the manifest's
:class:`~course_kit.manifest.Exercise`).
"""

import importlib.util
import itertools
import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from course_kit.kit import KIT_ROOT, KitError

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from course_app.policy import Requirement
    from course_app.settings import Settings

ENV_VAR = "STEPUP_IMPL"
# A student bundle ships without solutions/ (stepup teach release): there, their own work is
# the default everywhere; in the instructor's kit the reference is, except where a command
# is the student's own (check, watch, the notebooks), which ask for "exercises" themselves.
DEFAULT = "solutions" if (KIT_ROOT / "solutions").is_dir() else "exercises"
_counter = itertools.count()


class ImplementationError(KitError):
    """A student-facing message: what is missing or broken, and where."""


class ExerciseFile(Protocol):
    """What the switch needs to know of an exercise."""

    @property
    def id(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def router(self) -> bool: ...
    @property
    def policy(self) -> bool: ...


@dataclass(frozen=True)
class Implementation:
    spec: str
    folder: Path

    @property
    def label(self) -> str:
        return f"{self.spec} ({self.folder})"

    def path_of(self, exercise: ExerciseFile) -> Path:
        return self.folder / exercise.file

    def shown(self, exercise: ExerciseFile) -> str:
        """How to name the file to a student: ``exercises/ex02_api_keys.py``."""
        return f"{self.folder.name}/{exercise.file}"

    def where(self, exc: BaseException) -> str:
        """``exercises/ex01_email_change.py:33``: the last line of this implementation's files
        the exception went through (else of the kit, else any); empty without a traceback."""
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if Path(f.filename).is_relative_to(self.folder)]
        kit = [f for f in frames if Path(f.filename).is_relative_to(KIT_ROOT)]
        chosen = ours or kit or frames
        if not chosen:
            return ""
        frame = chosen[-1]
        path = Path(frame.filename)
        if path.is_relative_to(self.folder):
            shown = f"{self.folder.name}/{path.relative_to(self.folder).as_posix()}"
        elif path.is_relative_to(KIT_ROOT):
            shown = path.relative_to(KIT_ROOT).as_posix()
        else:
            shown = path.name
        return f"{shown}:{frame.lineno}"

    def paths_shown(self, text: str) -> str:
        """``text`` with the paths of this machine as the student knows them: the kit's files
        from its root (``course_app/deps.py``), theirs as ``exercises/…`` (inside the grader's
        sandbox the kit is ``/kit`` and the files ``/submission/exercises``)."""
        text = text.replace(f"{self.folder}/", f"{self.folder.name}/")
        return text.replace(f"{KIT_ROOT}/", "")

    def load(self, exercise: ExerciseFile) -> ModuleType:
        """Import the exercise file afresh (so edits show at once in a notebook)."""
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
            where = self.where(exc)
            at = f" (at {where})" if where and not where.startswith(shown + ":") else ""
            line = f" on line {where.rpartition(':')[2]}" if where.startswith(shown + ":") else ""
            raise ImplementationError(
                self.paths_shown(f"{shown} failed to import{line}: {type(exc).__name__}: {exc}{at}")
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

    def get(self, exercise: ExerciseFile, attribute: str, module: ModuleType | None = None) -> Any:
        """``attribute`` of the exercise module (loaded now unless given), or a clear error."""
        module = module or self.load(exercise)
        if not hasattr(module, attribute):
            raise ImplementationError(f"{self.shown(exercise)} has no {attribute}")
        return getattr(module, attribute)

    def routers(self, exercises: Iterable[ExerciseFile]) -> list["APIRouter"]:
        """The ``router`` of every exercise among ``exercises`` that has one."""
        from fastapi import APIRouter

        routers = []
        for exercise in exercises:
            if not exercise.router:
                continue
            router = self.get(exercise, "router")
            if not isinstance(router, APIRouter):
                raise ImplementationError(
                    f"{self.shown(exercise)}: router is not a fastapi.APIRouter"
                )
            routers.append(router)
        return routers

    def policy_rows(self, exercises: Iterable[ExerciseFile]) -> dict[str, "Requirement"]:
        """The ``POLICY`` rows of every exercise among ``exercises`` that sets some, checked:
        a mapping from action names the app knows to ``Requirement`` values."""
        from course_app.policy import POLICY, BadPolicyRow, merged

        rows: dict[str, Requirement] = {}
        for exercise in exercises:
            if not exercise.policy:
                continue
            table = self.get(exercise, "POLICY")
            if not isinstance(table, Mapping):
                raise ImplementationError(f"{self.shown(exercise)}: POLICY is not a dict")
            try:
                merged(POLICY, table)  # each exercise's rows checked against the app's own
            except BadPolicyRow as exc:
                raise ImplementationError(f"{self.shown(exercise)}: POLICY: {exc}") from None
            rows |= table
        return rows

    def build_app(self, settings: "Settings", exercises: Iterable[ExerciseFile]) -> "FastAPI":
        """The reference app with the routers and policy rows of ``exercises`` from these
        files."""
        from course_app.app import create_app

        chosen = list(exercises)
        return create_app(settings, self.routers(chosen), self.policy_rows(chosen))


def resolve(spec: str | None = None, default: str = DEFAULT) -> Implementation:
    """Turn ``solutions``, ``exercises`` or a path into an :class:`Implementation`
    (``STEPUP_IMPL`` when no spec is given, else ``default``)."""
    spec = spec or os.environ.get(ENV_VAR) or default
    if spec in ("solutions", "exercises"):
        folder = KIT_ROOT / spec
    else:
        path = Path(spec).expanduser().resolve()
        folder = path / "exercises" if (path / "exercises").is_dir() else path
    if not folder.is_dir():
        raise ImplementationError(f"--impl {spec}: no such folder ({folder})")
    return Implementation(spec, folder)
