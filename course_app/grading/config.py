"""Grading settings: the manifest's ``[grading]`` table, with safe defaults.

They live in ``course.toml`` next to the exercises so an instructor tunes one file, and the
self-check and the grader read the same limits ("passes at home" means "passes when graded").
"""

import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from course_app.manifest import KIT_ROOT

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass(frozen=True)
class Limits:
    """What one graded run may use. Timeouts in seconds, sizes in MiB / KiB."""

    per_test_timeout: float = 10.0
    import_timeout: float = 10.0
    startup_timeout: float = 60.0
    overall_timeout: float = 300.0
    memory_mb: int = 2048
    file_size_mb: int = 64
    scratch_mb: int = 256  # the submission process's writable folder (bwrap: a tmpfs)
    output_kb: int = 64

    @classmethod
    def from_json(cls, text: str) -> "Limits":
        """The limits a grader hands its judges (``json.dumps(asdict(limits))``)."""
        return cls(**json.loads(text))

    def but(self, **changes: Any) -> "Limits":
        """A copy with some limits changed (``None`` values keep the current one)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class GradingConfig:
    limits: Limits = field(default_factory=Limits)
    # Graded tests that never ship to students; run by `stepup grade`, not by `stepup check`.
    hidden_dir: str = "tests/graded/hidden"
    hidden_visibility: str = "after_published"
    # exercise id → module-level string the grader records for the instructor, unscored.
    free_text: dict[str, str] = field(default_factory=dict)


def load_config(kit_root: Path = KIT_ROOT) -> GradingConfig:
    path = kit_root / "course.toml"
    with path.open("rb") as fh:
        table = tomllib.load(fh).get("grading", {})
    limits = Limits(**{k: v for k, v in table.get("limits", {}).items()})
    visibility = table.get("hidden_visibility", GradingConfig.hidden_visibility)
    if visibility not in VISIBILITIES:
        raise ValueError(f"course.toml: hidden_visibility must be one of {VISIBILITIES}")
    return GradingConfig(
        limits=limits,
        hidden_dir=table.get("hidden_dir", GradingConfig.hidden_dir),
        hidden_visibility=visibility,
        free_text=dict(table.get("free_text", {})),
    )
