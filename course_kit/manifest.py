"""The course manifest (``course.toml``), read into typed models in one place.

Every table is a model that forbids keys it does not know, so a misspelt ``hint_fr`` or
``per_test_timout`` stops the kit with a message that names the key, instead of being ignored.
The grading limits live here too: ``stepup check`` and ``stepup teach grade`` read the same
ones, so "passes at home" means "passes when graded".
"""

import hashlib
import re
import tomllib
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from course_kit.kit import KIT_ROOT, KitError

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class ManifestError(KitError):
    """``course.toml`` is not what the kit expects: the message names the key and the entry."""


class UnknownExercise(KitError):
    """An exercise id the manifest does not have; the message lists the ones it has."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Task(_Strict):
    n: int = Field(ge=1)
    title: str
    points: int = Field(ge=0)
    hints: tuple[str, ...] = ()
    # graded test name → the hint for when that check fails (else the first hint)
    hint_for: dict[str, str] = Field(default_factory=dict)
    # Correctness is judged by hidden tests only: at home a pass means "answered", no points.
    checked_when_graded: bool = False
    _exercise: str = PrivateAttr(default="")

    @property
    def exercise(self) -> str:
        return self._exercise

    @property
    def key(self) -> str:
        return f"{self.exercise}/task{self.n}"

    def hint(self, failing_test: str | None = None) -> str | None:
        """The hint for the check that failed (its name, parameters dropped)."""
        name = (failing_test or "").split("[")[0]
        return self.hint_for.get(name) or (self.hints[0] if self.hints else None)


class Exercise(_Strict):
    id: str = Field(pattern=r"^ex\d\d$")
    title: str
    file: str = Field(pattern=r"^ex\d\d_\w+\.py$")
    notebook: str
    router: bool = False  # the file exports ``router``, an APIRouter the app mounts
    policy: bool = False  # the file exports ``POLICY``, step-up rows the app lays over its own
    stub_sha256: str = ""  # the pristine starting stub: "untouched" is judged against it
    # When Gradescope shows this exercise's results to students; its points count either way
    # (the total is shown once every result is). Delay it where one result gives an answer
    # away: with resubmissions, a pass or fail is a free probe of a key.
    visibility: Visibility = "visible"
    tasks: tuple[Task, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _own_tasks(self) -> Self:
        numbers = [t.n for t in self.tasks]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"tasks must be numbered 1, 2, 3… in order, not {numbers}")
        if not self.file.startswith(self.id + "_"):
            raise ValueError(f"file {self.file!r} must start with the id {self.id!r}")
        if self.visibility == "hidden" and self.points:
            raise ValueError(
                "visibility 'hidden' would never show points that count (Gradescope keeps"
                " 'hidden' for tests worth nothing): use 'after_due_date' or 'after_published'"
            )
        for task in self.tasks:
            task._exercise = self.id
        return self

    @property
    def path(self) -> PurePosixPath:
        """Where the student's file is, from the kit's root: ``exercises/ex01_….py``."""
        return PurePosixPath("exercises") / self.file

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".py")

    def is_stub(self, content: bytes) -> bool:
        """``content`` is byte for byte the starting stub pinned in course.toml."""
        return bool(self.stub_sha256) and stub_digest(content) == self.stub_sha256

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)

    def task(self, n: int) -> Task:
        for task in self.tasks:
            if task.n == n:
                return task
        raise UnknownExercise(f"{self.id} has no task {n} (tasks 1 to {len(self.tasks)})")


class Limits(_Strict):
    """What one graded run may use. Timeouts in seconds, sizes in MiB / KiB."""

    per_test_timeout: float = Field(default=10.0, gt=0)
    import_timeout: float = Field(default=10.0, gt=0)
    startup_timeout: float = Field(default=60.0, gt=0)
    overall_timeout: float = Field(default=300.0, gt=0)
    memory_mb: int = Field(default=2048, ge=64)  # one submission, every process it starts
    judge_memory_mb: int = Field(default=1024, ge=256)  # one judge (pytest and our own app)
    file_size_mb: int = Field(default=64, ge=1)
    scratch_mb: int = Field(default=256, ge=16)  # the submission's writable folder
    output_kb: int = Field(default=64, ge=1)

    def but(self, **changes: Any) -> "Limits":
        """A copy with some limits changed (``None`` values keep the current one)."""
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})


class Grading(_Strict):
    # Graded tests that never ship to students: run when graded, not by `stepup check`. Their
    # names, inputs and messages reach the instructor's files only, never a student's.
    hidden_dir: str = "tests/graded/hidden"
    # exercise id → module-level string the grader records for the instructor, unscored.
    free_text: dict[str, str] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)


class CourseInfo(_Strict):
    title: str


class Course(_Strict):
    course: CourseInfo
    exercises: tuple[Exercise, ...] = Field(min_length=1)
    grading: Grading = Field(default_factory=Grading)
    _root: Path = PrivateAttr(default=KIT_ROOT)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [e.id for e in self.exercises]
        if len(set(ids)) != len(ids):
            raise ValueError(f"exercise ids must be unique: {ids}")
        unknown = sorted(set(self.grading.free_text) - set(ids))
        if unknown:
            raise ValueError(f"grading.free_text names exercises that do not exist: {unknown}")
        return self

    @property
    def root(self) -> Path:
        """The kit folder this manifest was read from."""
        return self._root

    @property
    def title(self) -> str:
        return self.course.title

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.exercises]

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise ``ex01`` (``ex1`` and ``EX01`` mean the same one)."""
        wanted = _canonical_id(exercise_id)
        for exercise in self.exercises:
            if exercise.id == wanted:
                return exercise
        raise UnknownExercise(
            f"no exercise {exercise_id!r}: the exercises are {', '.join(self.ids)}"
        )

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for e in self.exercises for t in e.tasks)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)

    def order(self, exercise_id: str | None) -> int:
        """Sort key: an exercise's place in the course (unknown ones last)."""
        return self.ids.index(exercise_id) if exercise_id in self.ids else len(self.ids)


def _canonical_id(text: str) -> str:
    found = re.fullmatch(r"ex0*(\d{1,2})", text.strip().lower())
    return f"ex{int(found.group(1)):02d}" if found else text


def parse(data: dict[str, Any], root: Path = KIT_ROOT, source: str = "course.toml") -> Course:
    """The manifest from its TOML data; :class:`ManifestError` names every key at fault."""
    try:
        course = Course.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"{source} is not valid:\n{_readable(exc, data)}") from None
    course._root = root
    return course


def _readable(exc: ValidationError, data: dict[str, Any]) -> str:
    """One line per problem: ``exercises[0] (ex01) → tasks[1]: unknown key 'hint_fr'``."""
    lines = []
    for error in exc.errors():
        where: list[str] = []
        node: Any = data
        for part in error["loc"]:
            if isinstance(part, int):
                where[-1] += f"[{part}]"
                node = node[part] if isinstance(node, list) and part < len(node) else {}
                if isinstance(node, dict) and "id" in node:
                    where[-1] += f" ({node['id']})"
            else:
                where.append(str(part))
                node = node.get(part, {}) if isinstance(node, dict) else {}
        if error["type"] == "extra_forbidden":
            key = where.pop() if where else "?"
            text = f"unknown key {key!r}"
        else:
            text = error["msg"]
        lines.append(f"  {' → '.join(where) or 'top level'}: {text}")
    return "\n".join(lines)


@cache
def load_course(root: Path = KIT_ROOT) -> Course:
    """The manifest of the kit at ``root``, read once per process."""
    path = root / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path} is not valid TOML: {exc}") from None
    return parse(data, root, str(path))


def stub_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pin_stubs(root: Path = KIT_ROOT) -> list[str]:
    """Record the current ``exercises/`` files as the pristine stubs in ``course.toml``; returns
    the ids whose pin changed. The file is edited with tomlkit, so comments and layout stay."""
    import tomlkit

    path = root / "course.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    course = parse(document.unwrap(), root, str(path))  # validated before anything is written
    changed = []
    tables: list[Any] = document["exercises"]  # an array of tables
    for table, exercise in zip(tables, course.exercises, strict=True):
        stub = root / exercise.path
        if not stub.is_file():
            raise ManifestError(f"{exercise.path} is missing: nothing to pin for {exercise.id}")
        digest = stub_digest(stub.read_bytes())
        if digest != exercise.stub_sha256:
            table["stub_sha256"] = digest
            changed.append(exercise.id)
    if changed:
        path.write_text(tomlkit.dumps(document), encoding="utf-8")
        load_course.cache_clear()
    return changed
