"""Shared by the grader's tests: small limits, submissions made from the kit, and the schemas
every results file must validate against."""

import json
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import hostile_zips
import jsonschema

from course_kit.kit import KIT_ROOT
from course_kit.manifest import Limits, load_course
from course_kit.teach.author.mutants import load_mutants
from course_kit.teach.grade.results import Results, schema
from course_kit.teach.publish.gradescope_format import GradescopeResults

COURSE = load_course()
HOSTILE = Path(__file__).parent / "hostile"
CANONICAL_SCHEMA = schema()
# Small enough that the hostile corpus runs in seconds, large enough for a loaded machine.
FAST = Limits(
    per_test_timeout=3.0,
    import_timeout=3.0,
    startup_timeout=60.0,
    overall_timeout=90.0,
    memory_mb=1024,
    file_size_mb=16,
    output_kb=16,
)

# Exercism's test-runner interface, version 3.
EXERCISM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "status"],
    "properties": {
        "version": {"const": 3},
        "status": {"enum": ["pass", "fail", "error"]},
        "message": {"type": ["string", "null"]},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "status", "test_code"],
                "properties": {
                    "name": {"type": "string"},
                    "status": {"enum": ["pass", "fail", "error"]},
                    "message": {"type": ["string", "null"]},
                    "output": {"type": ["string", "null"], "maxLength": 500},
                    "test_code": {"type": "string"},
                    "task_id": {"type": "integer", "minimum": 1},
                },
            },
        },
    },
    "if": {"properties": {"status": {"const": "error"}}},
    "then": {"required": ["message"]},
    "else": {"required": ["tests"]},
}


def validate_outputs(outdir: Path) -> dict[str, Any]:
    """Every file of a results folder is valid; returns the canonical results."""
    canonical = json.loads((outdir / "stepup-results.json").read_text())
    jsonschema.validate(canonical, CANONICAL_SCHEMA)
    GradescopeResults.model_validate(json.loads((outdir / "results.json").read_text()))
    jsonschema.validate(json.loads((outdir / "exercism-results.json").read_text()), EXERCISM_SCHEMA)
    ET.parse(outdir / "junit.xml")  # well-formed XML, whatever the messages held
    assert (outdir / "summary.md").read_text().startswith("# ")
    assert (outdir / "instructor-summary.md").read_text().startswith("# ")
    return canonical


def submission(folder: Path, source: str = "solutions", only: list[str] | None = None) -> Path:
    """``folder/exercises/`` holding the kit's ``source`` files (all, or the ``only`` ids)."""
    target = folder / "exercises"
    target.mkdir(parents=True, exist_ok=True)
    for exercise in COURSE.exercises:
        if only is None or exercise.id in only:
            shutil.copy(KIT_ROOT / source / exercise.file, target / exercise.file)
    return folder


def as_json(found: Results) -> dict[str, Any]:
    """Results as their file holds them (what the tests check)."""
    return found.model_dump(mode="json", by_alias=True)


def statuses(results: dict[str, Any], exercise: str) -> set[str]:
    return {t["status"] for t in results["tests"] if t["exercise"] == exercise}


def exercise(results: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    return next(e for e in results["exercises"] if e["id"] == exercise_id)


def mutated(folder: Path, mutant_name: str) -> Path:
    """``folder/exercises/`` holding the solution file that the mutant of that name (in
    ``tests/meta/mutants.toml``) breaks, broken as it says."""
    mutant = next(m for m in load_mutants(KIT_ROOT) if m.name == mutant_name)
    target = folder / "exercises" / Path(mutant.file).name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(mutant.apply((KIT_ROOT / mutant.file).read_text(encoding="utf-8")))
    return folder


def case_of(name: str) -> dict[str, Any]:
    return tomllib.loads((HOSTILE / name / "case.toml").read_text())


def prepare(name: str, root: Path, label: str | None = None) -> Path:
    """The hostile case ``name`` as a submission in ``root`` (named ``label``, by default as
    the case): its files, its honest parts, its derived file; or its archive, as committed or
    written now."""
    case = case_of(name)
    target = root / (label or name)
    shutil.copytree(HOSTILE / name, target, ignore=shutil.ignore_patterns("case.toml"))
    if "archive" in case:
        if "write" in case:
            getattr(hostile_zips, f"write_{case['write']}")(target / case["archive"])
        return target / case["archive"]
    submission(target, only=case.get("honest", []))
    if "derive" in case:
        derive = case["derive"]
        text = (KIT_ROOT / derive["file"]).read_text()
        for old, new in [
            (derive["old"], derive["new"]),
            *([derive["extra"]] if "extra" in derive else []),
        ]:
            assert text.count(old) == 1, f"{name}: the text to replace is not unique: {old!r}"
            text = text.replace(old, new)
        (target / "exercises").mkdir(exist_ok=True)
        (target / "exercises" / Path(derive["file"]).name).write_text(text)
    return target
