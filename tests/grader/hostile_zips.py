"""Hostile zip archives, built the way an attacker would: members that inflate far beyond their
declared size with a method zipfile does not bound (bzip2, LZMA), and an archive of 500,000
members. The small bomb is committed (``hostile/compressed_bomb/bomb.zip``: compressing a
gigabyte takes half a minute); ``python tests/grader/hostile_zips.py`` writes it again. The
large archive is written at test time. ``bench/intake.py`` measures refusing both.
"""

import struct
import sys
import zipfile
from pathlib import Path

BOMB = Path(__file__).parent / "hostile" / "compressed_bomb" / "bomb.zip"
DECLARED = 2048  # what each bomb member claims to inflate to
BOMB_MEMBERS = {  # file name → (method, bytes it really inflates to)
    "exercises/ex01_email_change.py": (zipfile.ZIP_BZIP2, 1 << 30),
    "exercises/ex03_five_minute_window.py": (zipfile.ZIP_LZMA, 128 << 20),
}
LOCAL = struct.Struct("<4s5H3L2H")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
END64 = struct.Struct("<4sQ2H2L4Q")
LOCATOR = struct.Struct("<4sLQL")
END = struct.Struct("<4s4H2LH")


def write_bomb(path: Path = BOMB) -> None:
    """Each member of :data:`BOMB_MEMBERS` is zeros compressed by zipfile itself, then its
    declared size is rewritten to :data:`DECLARED` in both headers: the lie a reader must not
    believe."""
    chunk = b"\0" * (16 << 20)
    with zipfile.ZipFile(path, "w") as archive:
        for name, (method, size) in BOMB_MEMBERS.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            with archive.open(info, "w", force_zip64=False) as fh:
                for _ in range(size // len(chunk)):
                    fh.write(chunk)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offsets = [info.header_offset for info in archive.infolist()]
    for offset in offsets:
        struct.pack_into("<L", data, offset + 22, DECLARED)  # local header: uncompressed size
    at = data.rfind(b"PK\x05\x06")
    entry = struct.unpack_from("<L", data, at + 16)[0]  # the central directory's start
    for _ in offsets:
        struct.pack_into("<L", data, entry + 24, DECLARED)
        names, extra, comment = struct.unpack_from("<3H", data, entry + 28)
        entry += CENTRAL.size + names + extra + comment
    path.write_bytes(bytes(data))


def write_many_members(path: Path, count: int = 500_000) -> Path:
    """A genuine ZIP64 archive of ``count`` empty stored members (``000000`` …), written as
    bytes: zipfile itself would take many seconds to write it."""
    with path.open("wb") as fh:
        central = bytearray()
        offset = 0
        for n in range(count):
            name = b"%06d" % n
            fh.write(LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name)
            central += CENTRAL.pack(
                b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, offset
            )
            central += name
            offset += LOCAL.size + len(name)
        fh.write(central)
        end64_at = offset + len(central)
        many = min(count, 0xFFFF)  # more: the ZIP64 record holds the count
        fh.write(END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), offset))
        fh.write(LOCATOR.pack(b"PK\x06\x07", 0, end64_at, 1))
        fh.write(END.pack(b"PK\x05\x06", 0, 0, many, many, len(central), offset, 0))
    return path


if __name__ == "__main__":
    write_bomb(Path(sys.argv[1]) if len(sys.argv) > 1 else BOMB)
