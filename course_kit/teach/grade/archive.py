"""Sizing up a zip archive before :mod:`zipfile` reads it.

``zipfile.ZipFile`` builds an object for every entry of the central directory as soon as it
opens an archive: for 500,000 entries that is seconds and hundreds of MiB before anything can
count them. Here the end-of-central-directory record (ZIP64's included) is found with one read
of the archive's tail, and the directory's entries are walked as bytes, building nothing, so an
archive with too many members is refused in milliseconds whatever its records claim.
"""

import struct
from typing import BinaryIO, Final

END: Final = struct.Struct("<4s4H2LH")  # end of central directory
END_SIGNATURE: Final = b"PK\x05\x06"
LOCATOR: Final = struct.Struct("<4sLQL")  # where ZIP64's end record is
LOCATOR_SIGNATURE: Final = b"PK\x06\x07"
END64: Final = struct.Struct("<4sQ2H2L4Q")  # ZIP64's end of central directory
END64_SIGNATURE: Final = b"PK\x06\x06"
ENTRY: Final = struct.Struct("<4s4B4HL2L5H2L")  # one central directory entry, before its name
ENTRY_SIGNATURE: Final = b"PK\x01\x02"
LONGEST_COMMENT: Final = 0xFFFF


class ArchiveRefused(Exception):
    """The archive is not worth opening; the message completes "<name> …"."""


def size_up(archive: BinaryIO, max_members: int, max_directory: int) -> None:
    """Refuse (:class:`ArchiveRefused`) an archive with more than ``max_members`` entries or a
    central directory over ``max_directory`` bytes. An archive without an end record passes:
    ``zipfile`` then says itself that it is not a zip archive."""
    found = _directory(archive)
    if found is None:
        return
    start, size, declared = found
    if declared > max_members:
        raise ArchiveRefused(f"holds {declared:,} files: more than {max_members:,}")
    if size > max_directory:
        raise ArchiveRefused(
            f"has a file list of {size:,} bytes: more than {max_directory:,}"
            " (a submission is a few files)"
        )
    # The count in the end record may lie: zipfile reads entries for as many bytes as the
    # directory is long, so count those.
    archive.seek(max(0, start))
    counted = _count_entries(archive.read(size))
    if counted > max_members:
        raise ArchiveRefused(f"holds {counted:,} files: more than {max_members:,}")


def _directory(archive: BinaryIO) -> tuple[int, int, int] | None:
    """(where the central directory starts, its size, its declared number of entries), found
    as ``zipfile`` finds them: from the end record, ZIP64's when there is one."""
    archive.seek(0, 2)
    length = archive.tell()
    tail_start = max(0, length - END.size - LONGEST_COMMENT)
    archive.seek(tail_start)
    tail = archive.read()
    at = tail.rfind(END_SIGNATURE)
    if at < 0 or at + END.size > len(tail):
        return None
    _, _, _, _, declared, size, _, _ = END.unpack_from(tail, at)
    end_at = tail_start + at
    locator_at = end_at - LOCATOR.size
    if locator_at >= END64.size:
        archive.seek(locator_at)
        locator = archive.read(LOCATOR.size)
        if locator[:4] == LOCATOR_SIGNATURE:
            # ZIP64: the record sits right before its locator (zipfile looks there too).
            archive.seek(locator_at - END64.size)
            record = archive.read(END64.size)
            if record[:4] == END64_SIGNATURE:
                fields = END64.unpack(record)
                declared, size = fields[7], fields[8]
                return locator_at - END64.size - size, size, declared
    return end_at - size, size, declared


def _count_entries(directory: bytes) -> int:
    """How many entries the directory's bytes hold, up to the first that is not one."""
    count = at = 0
    while at + ENTRY.size <= len(directory) and directory[at : at + 4] == ENTRY_SIGNATURE:
        fields = ENTRY.unpack_from(directory, at)
        name, extra, comment = fields[12], fields[13], fields[14]
        at += ENTRY.size + name + extra + comment
        count += 1
    return count
