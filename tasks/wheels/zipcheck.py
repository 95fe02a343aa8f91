"""The one check that a wheel's zip reads the same from the front and from the back.

A zip has two indexes of its members: the local headers, in order from the front (what a streaming
reader sees), and the central directory, found through the end-of-central-directory record at the
back (what `zipfile` and installers read). An archive whose two readings differ can show a reviewer
or a scanner one wheel and install another. `archive_problem` refuses, as uv does:

- no end record, or bytes after it: an archive appended after the end record is what a reader
  from the back sees;
- a central directory not exactly before the end record (zip64 included): moved offsets;
- a central entry whose local header differs (name, method, CRC, sizes), or whose data descriptor
  does: the two readings name or size another file;
- two entries with the same name: which one is installed depends on the reader;
- overlapping entries, bytes that no entry claims, data before the first entry: hidden members.

It reads only bytes (`archive_problem` is pure); `check_archive` maps a file and raises InvalidWheel.
Run once per wheel, when it enters the unpacked cache (a warm sync reads no zip).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import InvalidWheel

if TYPE_CHECKING:
    import mmap

    Data = bytes | mmap.mmap

_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_LOCATOR64 = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_FULL32 = 0xFFFFFFFF
_FULL16 = 0xFFFF


class ZipProblem(ValueError):
    """What makes an archive read two ways."""


@dataclass(frozen=True)
class _Member:
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    zip64: bool


def check_archive(path: Path, *, package: str) -> None:
    """InvalidWheel naming the wheel and the problem when `path` does not read one way only."""
    import mmap

    try:
        with path.open("rb") as f:
            if path.stat().st_size == 0:
                problem: str | None = "it is empty"
            else:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    problem = archive_problem(data)
    except OSError as exc:
        problem = f"cannot read it ({exc.strerror or exc})"
    if problem is not None:
        raise InvalidWheel(f"invalid wheel {path.name}: {problem}", package=package)


def archive_problem(data: Data) -> str | None:
    """Why `data` (a whole zip) is ambiguous or malformed, or None when it reads one way."""
    try:
        members, cd_start = _central_directory(data)
        _check_members(data, members, cd_start)
    except ZipProblem as exc:
        return str(exc)
    except struct.error:
        return "a record runs past the end of the file"
    return None


def _central_directory(data: Data) -> tuple[list[_Member], int]:
    """The central directory's members and where it starts, checked against the end record(s)."""
    eocd = _end_record(data)
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = struct.unpack_from("<4s4H2LH", data, eocd)
    if disk != 0 or cd_disk != 0:
        raise ZipProblem("it spans several disks")
    cd_end = eocd
    if _FULL16 in (count,) or _FULL32 in (cd_size, cd_offset):
        count, cd_size, cd_offset, cd_end = _zip64_end(data, eocd)
    if cd_offset + cd_size != cd_end:
        raise ZipProblem(
            f"its central directory is not where the end record says "
            f"(offset {cd_offset} + size {cd_size} != {cd_end})"
        )
    members = _read_central(data, cd_offset, cd_end)
    if len(members) != count:
        raise ZipProblem(f"the end record counts {count} entries, the central directory has {len(members)}")
    return members, cd_offset


def _end_record(data: Data) -> int:
    """The end-of-central-directory record's offset: it must end exactly at the end of the file."""
    search_from = max(0, len(data) - 22 - _FULL16)
    eocd = data.rfind(_EOCD, search_from)
    if eocd < 0 or eocd + 22 > len(data):
        raise ZipProblem("no end of central directory record")
    (comment,) = struct.unpack_from("<H", data, eocd + 20)
    if eocd + 22 + comment != len(data):
        raise ZipProblem(f"{len(data) - eocd - 22 - comment} bytes after the end of central directory record")
    return eocd


def _zip64_end(data: Data, eocd: int) -> tuple[int, int, int, int]:
    """(count, cd size, cd offset, where the central directory must end) from the zip64 records."""
    locator = eocd - 20
    if locator < 0 or data[locator : locator + 4] != _LOCATOR64:
        raise ZipProblem("the end record needs zip64 values, but there is no zip64 locator")
    _, disk, record, disks = struct.unpack_from("<4sLQL", data, locator)
    if disk != 0 or disks != 1:
        raise ZipProblem("it spans several disks")
    if data[record : record + 4] != _EOCD64:
        raise ZipProblem(f"the zip64 locator points at offset {record}, not at a zip64 end record")
    _, size, _, _, _, _, count, total, cd_size, cd_offset = struct.unpack_from("<4sQ2H2L4Q", data, record)
    if record + 12 + size != locator:
        raise ZipProblem("bytes between the zip64 end record and its locator")
    if count != total:
        raise ZipProblem("it spans several disks")
    return count, cd_size, cd_offset, record


def _read_central(data: Data, start: int, end: int) -> list[_Member]:
    members, at, names = [], start, set()
    while at < end:
        if data[at : at + 4] != _CENTRAL:
            raise ZipProblem(f"no central directory header at offset {at}")
        member, at = _central_entry(data, at)
        if member.name in names:
            raise ZipProblem(f"two entries named {member.name!r}")
        names.add(member.name)
        members.append(member)
    if at != end:
        raise ZipProblem("the last central directory entry runs past the central directory")
    return members


def _central_entry(data: Data, at: int) -> tuple[_Member, int]:
    fields = struct.unpack_from("<4s6H3L5H2L", data, at)
    flags, method, crc, compressed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
    name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
    raw_name = bytes(data[at + 46 : at + 46 + name_len])
    extra = bytes(data[at + 46 + name_len : at + 46 + name_len + extra_len])
    zip64 = _FULL32 in (compressed, size, offset)
    if zip64:
        size, compressed, offset = _zip64_extra(extra, size, compressed, offset, raw_name)
    member = _Member(_decoded(raw_name, flags), raw_name, flags, method, crc, compressed, size, offset, zip64)
    return member, at + 46 + name_len + extra_len + comment_len


def _zip64_extra(extra: bytes, size: int, compressed: int, offset: int, name: bytes) -> tuple[int, int, int]:
    """The 64-bit values a zip64 extra field holds for the fields set to 0xFFFFFFFF, in spec order."""
    values = _extra_field(extra, 0x0001)
    if values is None:
        raise ZipProblem(f"entry {_decoded(name, 0)!r} needs a zip64 extra field, it has none")
    wanted = [v == _FULL32 for v in (size, compressed, offset)]
    found, pos = [size, compressed, offset], 0
    for index, needed in enumerate(wanted):
        if needed:
            if pos + 8 > len(values):
                raise ZipProblem(f"entry {_decoded(name, 0)!r} has a short zip64 extra field")
            (found[index],) = struct.unpack_from("<Q", values, pos)
            pos += 8
    return found[0], found[1], found[2]


def _extra_field(extra: bytes, wanted: int) -> bytes | None:
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == wanted:
            return extra[at + 4 : at + 4 + length]
        at += 4 + length
    return None


def _decoded(raw: bytes, flags: int) -> str:
    """A member name as zipfile reads it (UTF-8 with the language flag, else cp437)."""
    return raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")


def _check_members(data: Data, members: list[_Member], cd_start: int) -> None:
    """Every local header agrees with its central entry; entries tile the bytes before the directory."""
    expected = 0
    for member in sorted(members, key=lambda m: m.offset):
        if member.offset < expected:
            raise ZipProblem(f"entry {member.name!r} overlaps the entry before it")
        if member.offset > expected:
            what = "data before the first entry" if expected == 0 else "bytes that no entry claims"
            raise ZipProblem(f"{what} (offset {expected} to {member.offset})")
        expected = _local_end(data, member)
    if expected > cd_start:
        raise ZipProblem("the last entry overlaps the central directory")
    if expected < cd_start:
        raise ZipProblem(f"bytes that no entry claims (offset {expected} to {cd_start})")


def _local_end(data: Data, member: _Member) -> int:
    """Where `member`'s local header, data and descriptor end, after checking them against the directory."""
    at = member.offset
    if data[at : at + 4] != _LOCAL:
        raise ZipProblem(f"entry {member.name!r}: no local header at offset {at}")
    _, _, flags, method, _, _, crc, compressed, size, name_len, extra_len = struct.unpack_from(
        "<4s5H3L2H", data, at
    )
    raw_name = bytes(data[at + 30 : at + 30 + name_len])
    if raw_name != member.raw_name:
        raise ZipProblem(f"entry {member.name!r}: its local header names {_decoded(raw_name, flags)!r}")
    if method != member.method:
        raise ZipProblem(
            f"entry {member.name!r}: compression method {method} locally, {member.method} in the directory"
        )
    data_start: int = at + 30 + name_len + extra_len
    extra = bytes(data[at + 30 + name_len : data_start])
    if flags & 0x08:  # sizes and CRC follow the data, in a descriptor
        wide = member.zip64 or _extra_field(extra, 0x0001) is not None
        return _descriptor_end(data, member, data_start + member.compressed, wide)
    if _FULL32 in (compressed, size):
        size, compressed, _ = _zip64_extra(extra, size, compressed, 0, raw_name)
    _agree(member, crc, compressed, size, "local header")
    return data_start + member.compressed


def _descriptor_end(data: Data, member: _Member, at: int, wide: bool) -> int:
    if data[at : at + 4] == _DESCRIPTOR:
        at += 4
    if wide:
        crc, compressed, size = struct.unpack_from("<L2Q", data, at)
        end = at + 20
    else:
        crc, compressed, size = struct.unpack_from("<3L", data, at)
        end = at + 12
    _agree(member, crc, compressed, size, "data descriptor")
    return end


def _agree(member: _Member, crc: int, compressed: int, size: int, where: str) -> None:
    for what, local, central in (
        ("CRC-32", crc, member.crc),
        ("compressed size", compressed, member.compressed),
        ("size", size, member.size),
    ):
        if local != central:
            raise ZipProblem(
                f"entry {member.name!r}: {what} {local} in its {where}, {central} in the directory"
            )
