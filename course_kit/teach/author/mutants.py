"""Buggy variants of the reference code (``tests/meta/mutants.toml``): each must lose exactly
the tasks it names, proof that the graded tests fail for the right reason.

    [[mutant]]
    name = "ex05: no step-up on password change"
    file = "solutions/ex05_password_change.py"     # any file of the kit, the app's included
    old = "    _: RecentAuth,  # SOLUTION"           # must occur exactly once
    new = "    # SOLUTION"
    breaks = ["ex05/task1"]

The file never ships to students (it quotes the answers).
"""

import shutil
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from course_kit.kit import AUTOGRADER_PARTS, KitError

MUTANTS_FILE = "tests/meta/mutants.toml"
# A copy of the kit that can be graded: what grading needs, and the code to mutate.
MUTANT_KIT_PARTS = (*AUTOGRADER_PARTS, "solutions")


class Mutant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    file: str
    old: str
    new: str
    breaks: list[str] = Field(min_length=1)  # "ex05/task1"
    extra: tuple[str, str] | None = None  # a second replacement in the same file

    @property
    def exercises(self) -> list[str]:
        return sorted({key.split("/")[0] for key in self.breaks})

    def apply(self, text: str) -> str:
        """``text`` (the content of :attr:`file`) with the bug put in."""
        for old, new in [(self.old, self.new), *([self.extra] if self.extra else [])]:
            if text.count(old) != 1:
                raise KitError(
                    f"mutant {self.name!r}: {old!r} occurs {text.count(old)} times in {self.file}"
                    " (it must occur exactly once)"
                )
            text = text.replace(old, new)
        return text


def load_mutants(root: Path) -> list[Mutant]:
    path = root / MUTANTS_FILE
    if not path.is_file():
        return []
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("mutant", [])
        return [Mutant.model_validate(entry) for entry in entries]
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise KitError(f"{MUTANTS_FILE} is not valid: {exc}") from None


def mutant_kit(mutant: Mutant, source: Path, target: Path) -> Path:
    """A copy of the kit at ``source`` in ``target`` with ``mutant`` applied."""
    for part in MUTANT_KIT_PARTS:
        origin = source / part
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.is_file():
            shutil.copy(origin, target / part)
    path = target / mutant.file
    path.write_text(mutant.apply(path.read_text(encoding="utf-8")), encoding="utf-8")
    return target
