"""Intake's limits on zip archives: a member is never inflated beyond its declared size (only
stored and deflated members are read, which zipfile stops at that size), and an archive with
too many members is refused from its end record, before zipfile lists a single member."""

import bz2
import lzma
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grader_helpers import COURSE
from hostile_zips import BOMB, BOMB_MEMBERS, DECLARED, write_many_members

from course_kit.kit import KIT_ROOT
from course_kit.teach.grade.intake import MAX_ZIP_MEMBERS, SubmissionError, read_submission

ANSWER = (KIT_ROOT / "solutions" / "ex04_why_reset_email_verified.py").read_bytes()


def test_the_committed_bomb_really_inflates_far_beyond_what_it_declares() -> None:
    """The fixture is honest: each member's compressed bytes give at least 1000 times its
    declared size (read in bounded steps here, so this test stays small itself)."""
    with zipfile.ZipFile(BOMB) as archive:
        infos = archive.infolist()
        raw = BOMB.read_bytes()
    assert [i.filename for i in infos] == list(BOMB_MEMBERS)
    for info in infos:
        assert info.file_size == DECLARED
        name_length, extra_length = struct.unpack_from("<2H", raw, info.header_offset + 26)
        start = info.header_offset + 30 + name_length + extra_length
        data = raw[start : start + info.compress_size]
        if info.compress_type == zipfile.ZIP_BZIP2:
            inflated = bz2.BZ2Decompressor().decompress(data, max_length=DECLARED * 1000)
        else:  # zip's LZMA: a 4-byte header, the filter properties, then a raw LZMA1 stream
            size = struct.unpack_from("<H", data, 2)[0]
            props = data[4 : 4 + size]
            filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]  # type: ignore[attr-defined]
            decompressor = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
            inflated = decompressor.decompress(data[4 + size :], max_length=DECLARED * 1000)
        assert len(inflated) == DECLARED * 1000, info.filename


@pytest.mark.parametrize(
    ("method", "named"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_a_member_zipfile_would_not_bound_is_left_out_and_the_rest_grades(
    tmp_path: Path, method: int, named: str
) -> None:
    archive_path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("exercises/ex01_email_change.py", "A = 1\n", compress_type=method)
        archive.writestr("exercises/ex04_why_reset_email_verified.py", ANSWER, zipfile.ZIP_DEFLATED)
    intake = read_submission(archive_path, COURSE)
    assert intake.files == {"ex04_why_reset_email_verified.py": ANSWER}
    assert intake.notes == [
        f"exercises/ex01_email_change.py is compressed with {named},"
        " which the grader does not inflate: not graded"
    ]


def test_the_bomb_alone_is_an_error_that_names_the_compression() -> None:
    with pytest.raises(SubmissionError) as refused:
        read_submission(BOMB, COURSE)
    assert "no exercise files found" in str(refused.value)
    assert "exercises/ex03_five_minute_window.py is compressed with LZMA" in str(refused.value)


def test_many_members_are_refused_with_little_memory(tmp_path: Path) -> None:
    """500,000 members: zipfile alone would need hundreds of MiB to list them. Intake runs
    here with only 64 MiB of address space more than it had when it started, so it must
    refuse the archive before zipfile reads its list."""
    archive = write_many_members(tmp_path / "many.zip")
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from course_kit.manifest import load_course\n"
        "from course_kit.teach.grade.intake import SubmissionError, read_submission\n"
        "course = load_course()\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "size = next(int(s.split()[1]) for s in status if s.startswith('VmSize')) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size + (64 << 20), size + (64 << 20)))\n"
        "try:\n"
        "    read_submission(Path(sys.argv[1]), course)\n"
        "except SubmissionError as exc:\n"
        "    print(exc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(archive)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        f"many.zip holds 500,000 files: more than {MAX_ZIP_MEMBERS:,}:"
        " zip the exercises/ folder only"
    )


def test_an_end_record_that_understates_the_count_is_not_believed(tmp_path: Path) -> None:
    """The members are counted in the file list itself, which is what zipfile would read."""
    archive = write_many_members(tmp_path / "liar.zip", MAX_ZIP_MEMBERS + 1)
    data = bytearray(archive.read_bytes())
    end64 = data.rfind(b"PK\x06\x06")
    struct.pack_into("<2Q", data, end64 + 24, 1, 1)  # ZIP64's counts: "one member"
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<2H", data, end + 8, 1, 1)
    archive.write_bytes(bytes(data))
    with pytest.raises(
        SubmissionError, match=re.escape(f"liar.zip holds {MAX_ZIP_MEMBERS + 1:,} files")
    ):
        read_submission(archive, COURSE)


def test_a_small_genuine_archive_from_the_same_writer_lists_in_zipfile(tmp_path: Path) -> None:
    """The many-members writer makes real archives: zipfile lists one of 70,000 (ZIP64,
    since more than 65,535) member by member."""
    archive = write_many_members(tmp_path / "genuine.zip", 70_000)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        assert opened.read(names[-1]) == b""
    assert len(names) == 70_000 and names[-1] == "069999"


def test_an_archive_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    archive = tmp_path / "huge.zip"
    with archive.open("wb") as fh:
        fh.truncate(101 << 20)  # sparse: costs no disk
    with pytest.raises(SubmissionError, match=re.escape("huge.zip is larger than 100 MiB")):
        read_submission(archive, COURSE)
