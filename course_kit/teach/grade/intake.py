"""Taking a submission in: a folder or a ``.zip`` holding an ``exercises/`` folder, a whole copy
of the kit, or just the exercise files. Only the manifest's exercise file names are taken, as
bytes; nothing here imports or runs them."""

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from course_kit.manifest import Course
from course_kit.text import printable

MAX_FILE = 1 << 20  # an exercise file is a few KiB; a megabyte is not an answer
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_BYTES = 200 << 20
MAX_DEPTH = 6
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__MACOSX", "__pycache__", "solutions"}


class SubmissionError(Exception):
    """Nothing gradable: the message is for the student and the instructor."""


@dataclass
class Intake:
    name: str
    files: dict[str, bytes] = field(default_factory=dict)  # exercise file name → content
    notes: list[str] = field(default_factory=list)


def read_submission(path: Path, course: Course) -> Intake:
    """The exercise files of a folder or zip. Raises :class:`SubmissionError` when there are
    none; the caller turns that into an "error" result, never a traceback."""
    wanted = {e.file for e in course.exercises}
    intake = Intake(printable(path.name))
    if path.is_dir():
        candidates = _from_folder(path, wanted)
    elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        candidates = _from_zip(path, wanted)
    elif path.is_file():
        raise SubmissionError(f"{printable(path.name)} is neither a folder nor a zip archive")
    else:
        raise SubmissionError(f"{printable(str(path))} does not exist")
    for file_name in sorted(wanted):
        found = sorted(candidates.get(file_name, []), key=_preference)
        if not found:
            continue
        chosen, content = found[0]
        if content is None:
            intake.notes.append(
                f"{chosen} could not be read (a damaged archive member): not graded"
            )
            continue
        if len(content) > MAX_FILE:
            intake.notes.append(f"{chosen} is larger than {MAX_FILE // 1024} KiB: not graded")
            continue
        intake.files[file_name] = content
        if len(found) > 1:
            intake.notes.append(f"{file_name}: graded {chosen}, ignored {len(found) - 1} other(s)")
    if not intake.files:
        expected = ", ".join(f"exercises/{e.file}" for e in course.exercises)
        raise SubmissionError(f"no exercise files found in the submission (expected {expected})")
    return intake


def _preference(candidate: tuple[str, bytes | None]) -> tuple[int, int]:
    """Prefer ``exercises/<file>`` over a loose file, and shallow over deep."""
    parts = PurePosixPath(candidate[0]).parts
    in_exercises = len(parts) > 1 and parts[-2] == "exercises"
    return (0 if in_exercises else 1, len(parts))


Found = dict[str, list[tuple[str, bytes | None]]]  # file name → (where, content or None)


def _from_folder(root: Path, wanted: set[str]) -> Found:
    found: Found = {}

    def walk(folder: Path, depth: int) -> None:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            try:
                info = entry.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                continue  # a link could point at anything, the reference solutions included
            if stat.S_ISDIR(info.st_mode) and entry.name not in SKIPPED_DIRS and depth < MAX_DEPTH:
                walk(entry, depth + 1)
            elif stat.S_ISREG(info.st_mode) and entry.name in wanted:
                try:
                    content = (
                        entry.read_bytes() if info.st_size <= MAX_FILE else b"\0" * (MAX_FILE + 1)
                    )
                except OSError:
                    content = None
                where = printable(str(entry.relative_to(root)))
                found.setdefault(entry.name, []).append((where, content))

    walk(root, 0)
    return found


def _from_zip(path: Path, wanted: set[str]) -> Found:
    found: Found = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if not members:
                raise SubmissionError(f"{printable(path.name)} is an empty zip archive")
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise SubmissionError(f"{printable(path.name)} is too large to be a submission")
            for member in members:
                # Windows tools write exercises\\ex01.py: a backslash is a folder there.
                name = PurePosixPath(member.filename.replace("\\", "/"))
                parts = name.parts
                unsafe = name.is_absolute() or ".." in parts or len(parts) > MAX_DEPTH + 1
                link = stat.S_ISLNK(member.external_attr >> 16)
                if member.is_dir() or unsafe or link or SKIPPED_DIRS & set(parts[:-1]):
                    continue
                if name.name in wanted:
                    content = _member(archive, member)
                    found.setdefault(name.name, []).append((str(name), content))
    except SubmissionError:
        raise
    except Exception as exc:  # a damaged archive fails in many ways (zlib.error, EOFError, …)
        raise SubmissionError(
            f"{printable(path.name)} cannot be read as a zip archive: {type(exc).__name__}: {exc}"
        ) from None
    return found


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes | None:
    """The member's bytes; None when that member is damaged (the rest may still grade)."""
    if member.file_size > MAX_FILE:
        return b"\0" * (MAX_FILE + 1)
    try:
        with archive.open(member) as fh:
            return fh.read(MAX_FILE + 1)
    except Exception:  # zlib.error, EOFError, BadZipFile (CRC), NotImplementedError, …
        return None
