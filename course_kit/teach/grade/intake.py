"""Taking a submission in: a folder or a ``.zip`` holding an ``exercises/`` folder, a whole copy
of the kit, or just the exercise files. Only the manifest's exercise file names are taken, as
bytes; nothing here imports or runs them."""

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from course_kit.manifest import Course
from course_kit.teach.grade.archive import ArchiveRefused, size_up
from course_kit.text import printable

MAX_FILE = 1 << 20  # an exercise file is a few KiB; a megabyte is not an answer
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_BYTES = 200 << 20  # all members, as declared
MAX_ARCHIVE = 100 << 20  # the zip file itself
MAX_DIRECTORY = 4 << 20  # its list of members: 5,000 entries with long names fit
MAX_DEPTH = 6
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__MACOSX", "__pycache__", "solutions"}
# zipfile bounds what it inflates to the declared size only for these two: a bzip2 or LZMA
# member of a few KiB would inflate to gigabytes before a single byte could be checked.
READABLE = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 93: "Zstandard"}


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
    elif not path.is_file():
        raise SubmissionError(f"{printable(str(path))} does not exist")
    elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        candidates = _from_zip(path, wanted)
    else:
        raise SubmissionError(f"{printable(path.name)} is neither a folder nor a zip archive")
    for file_name in sorted(wanted):
        found = sorted(candidates.get(file_name, []), key=_preference)
        if not found:
            continue
        chosen = found[0]
        if chosen.content is None:
            intake.notes.append(f"{chosen.where} {chosen.problem}: not graded")
            continue
        if len(chosen.content) > MAX_FILE:
            intake.notes.append(f"{chosen.where} is larger than {MAX_FILE // 1024} KiB: not graded")
            continue
        intake.files[file_name] = chosen.content
        if len(found) > 1:
            intake.notes.append(
                f"{file_name}: graded {chosen.where}, ignored {len(found) - 1} other(s)"
            )
    if not intake.files:
        expected = ", ".join(f"exercises/{e.file}" for e in course.exercises)
        why = "".join(f"; {note}" for note in intake.notes)
        raise SubmissionError(
            f"no exercise files found in the submission (expected {expected}){why}"
        )
    return intake


@dataclass(frozen=True)
class Candidate:
    """A file with an exercise's name: where it is, and its bytes or why they are not read."""

    where: str
    content: bytes | None
    problem: str = ""


def _preference(candidate: Candidate) -> tuple[int, int]:
    """Prefer ``exercises/<file>`` over a loose file, and shallow over deep."""
    parts = PurePosixPath(candidate.where).parts
    in_exercises = len(parts) > 1 and parts[-2] == "exercises"
    return (0 if in_exercises else 1, len(parts))


Found = dict[str, list[Candidate]]  # file name → the candidates


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
                where = printable(str(entry.relative_to(root)))
                try:
                    content = (
                        entry.read_bytes() if info.st_size <= MAX_FILE else b"\0" * (MAX_FILE + 1)
                    )
                except OSError:
                    found.setdefault(entry.name, []).append(
                        Candidate(where, None, "could not be read")
                    )
                    continue
                found.setdefault(entry.name, []).append(Candidate(where, content))

    walk(root, 0)
    return found


def _from_zip(path: Path, wanted: set[str]) -> Found:
    name = printable(path.name)
    found: Found = {}
    if path.stat().st_size > MAX_ARCHIVE:
        raise SubmissionError(
            f"{name} is larger than {MAX_ARCHIVE >> 20} MiB: zip the exercises/ folder only"
        )
    try:
        with path.open("rb") as handle:
            size_up(handle, MAX_ZIP_MEMBERS, MAX_DIRECTORY)  # before zipfile lists anything
            with zipfile.ZipFile(handle) as archive:
                members = archive.infolist()
                if not members:
                    raise SubmissionError(f"{name} is an empty zip archive")
                if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                    raise SubmissionError(f"{name} is too large to be a submission")
                for member in members:
                    # Windows tools write exercises\\ex01.py: a backslash is a folder there.
                    inner = PurePosixPath(member.filename.replace("\\", "/"))
                    parts = inner.parts
                    unsafe = inner.is_absolute() or ".." in parts or len(parts) > MAX_DEPTH + 1
                    link = stat.S_ISLNK(member.external_attr >> 16)
                    if member.is_dir() or unsafe or link or SKIPPED_DIRS & set(parts[:-1]):
                        continue
                    if inner.name in wanted:
                        found.setdefault(inner.name, []).append(_member(archive, member, inner))
    except ArchiveRefused as exc:
        raise SubmissionError(f"{name} {exc}: zip the exercises/ folder only") from None
    except SubmissionError:
        raise
    except Exception as exc:  # a damaged archive fails in many ways (zlib.error, EOFError, …)
        raise SubmissionError(
            f"{name} cannot be read as a zip archive: {type(exc).__name__}: {exc}"
        ) from None
    return found


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, inner: PurePosixPath) -> Candidate:
    """The member's bytes, never inflated beyond its declared size; or why they are not read
    (the rest of the archive may still grade)."""
    where = printable(str(inner))
    if member.compress_type not in READABLE:
        method = METHODS.get(member.compress_type, f"method {member.compress_type}")
        return Candidate(
            where, None, f"is compressed with {method}, which the grader does not inflate"
        )
    if member.flag_bits & 0x1:
        return Candidate(where, None, "is encrypted")
    if member.file_size > MAX_FILE:
        return Candidate(where, b"\0" * (MAX_FILE + 1))
    try:
        with archive.open(member) as fh:
            # zipfile stops a stored or deflated member at its declared size and checks its CRC.
            return Candidate(where, fh.read(MAX_FILE + 1))
    except Exception:  # zlib.error, EOFError, BadZipFile (CRC), …
        return Candidate(where, None, "could not be read (a damaged archive member)")
