"""The rows of a class: every results folder of a batch (``OUT/<name>/stepup-results.json``,
as ``stepup teach batch`` or ``stepup teach grade -o OUT/<name>`` writes them), read into the
typed results."""

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from course_kit.kit import KitError
from course_kit.teach.grade.adapters import CANONICAL
from course_kit.teach.grade.results import Results
from course_kit.text import printable


class ReportError(KitError):
    """No class to report on: the message says where nothing was found."""


@dataclass(frozen=True)
class Row:
    label: str  # the results folder's name: the gradebook's "submission"
    results: Results


@dataclass
class Class:
    rows: list[Row]
    unreadable: list[str] = field(default_factory=list)  # folders whose results are damaged


def read_class(folder: Path) -> Class:
    """Every row under ``folder``, by name; a results file that is not one is set aside with
    the reason, and a folder with no results at all is a :class:`ReportError`."""
    if not folder.is_dir():
        raise ReportError(f"{printable(str(folder))} is not a folder")
    found = Class([])
    for entry in sorted(folder.iterdir()):
        path = entry / CANONICAL
        if not path.is_file():
            continue
        label = printable(entry.name)
        try:
            found.rows.append(Row(label, Results.model_validate_json(path.read_bytes())))
        except (OSError, ValidationError) as exc:
            problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            found.unreadable.append(f"{label}/{CANONICAL}: {problem}")
    if not found.rows:
        raise ReportError(
            f"no results in {printable(str(folder))} (expected <name>/{CANONICAL} for each"
            " submission, as `stepup teach batch` writes them)"
        )
    return found
