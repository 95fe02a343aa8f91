"""A wheel's `*.dist-info/METADATA`, found without reading the zip's whole directory.

`zipfile` makes a ZipInfo for every member before it can open one: a cold lock of 191 pins read
117,000 of them (3 to 4 ms of CPU per wheel, most of the metadata's cost when there is no PEP 658
file). This reads the end record, finds the member's name in the central directory's raw bytes,
and reads that one member: two or three reads of a seekable file (over HTTP, ranges mostly within
the tail already fetched). Anything it is not sure of (zip64, encryption, a method other than
stored or deflated, a name it cannot pin to one record, a bad CRC) gives None, and the caller
reads the wheel with `zipfile` as before, with its errors.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory file header (46 bytes)
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header (30 bytes)
_END_SIG, _CENTRAL_SIG, _LOCAL_SIG = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"
_NAME = b".dist-info/METADATA"
_MAX_COMMENT = 0xFFFF
_SLACK = (
    1024  # read this much beyond the member's header, so its local extra field rarely needs a second read
)


def metadata_member(fp: BinaryIO) -> bytes | None:
    """The bytes of the wheel's single top-level `*.dist-info/METADATA`; None when unsure."""
    directory = _central_directory(fp)
    if directory is None:
        return None
    record = _metadata_record(directory)
    if record is None:
        return None
    return _member(fp, record)


def _central_directory(fp: BinaryIO) -> bytes | None:
    end = _end_record(fp)
    if end is None:
        return None
    at, (_, disk, _, _, _, cd_size, cd_offset, _) = end
    if disk != 0 or cd_offset + cd_size != at:
        return None  # split or zip64 archives, or data before the zip (its offsets are off)
    fp.seek(cd_offset)
    directory = fp.read(cd_size)
    return directory if len(directory) == cd_size else None


def _end_record(fp: BinaryIO) -> tuple[int, tuple[int, ...]] | None:
    """Where the end record starts, and its fields: the last 22 bytes when there is no comment
    (as zipfile, not a read of 64 KB that a range request would fetch), else searched for."""
    size = fp.seek(0, io.SEEK_END)
    for start in (max(0, size - _END.size), max(0, size - _END.size - _MAX_COMMENT)):
        fp.seek(start)
        tail = fp.read(size - start)
        at = tail.rfind(_END_SIG)
        if at >= 0 and len(tail) - at >= _END.size:
            fields = _END.unpack_from(tail, at)
            return (start + at, fields) if at + _END.size + fields[-1] == len(tail) else None
    return None


def _metadata_record(directory: bytes) -> tuple[int, ...] | None:
    """(method, crc, compressed size, size, local header offset) of the one METADATA record; None
    when some occurrence of the name is not exactly the end of a record's name (let zipfile judge)."""
    found: list[tuple[int, ...]] = []
    at = directory.find(_NAME)
    while at >= 0:
        record = directory.rfind(_CENTRAL_SIG, 0, at)
        if record < 0 or len(directory) - record < _CENTRAL.size:
            return None
        fields = _CENTRAL.unpack_from(directory, record)
        flags, method, crc, packed, size, name_len, offset = (*fields[3:5], *fields[7:11], fields[16])
        name = directory[record + _CENTRAL.size : at + len(_NAME)]
        if len(name) != name_len:
            return None
        if name.count(b"/") == 1:
            if flags & 0x1 or method not in (0, 8) or 0xFFFFFFFF in (packed, size, offset):
                return None  # encrypted, another method, or zip64 sizes
            found.append((method, crc, packed, size, offset))
        at = directory.find(_NAME, at + len(_NAME))
    return found[0] if len(found) == 1 else None


def _member(fp: BinaryIO, record: tuple[int, ...]) -> bytes | None:
    method, crc, packed, size, offset = record
    fp.seek(offset)
    head = fp.read(_LOCAL.size + _SLACK + packed)
    if len(head) < _LOCAL.size or head[:4] != _LOCAL_SIG:
        return None
    name_len, extra_len = _LOCAL.unpack_from(head)[9:11]
    start = _LOCAL.size + name_len + extra_len
    data = head[start : start + packed]
    if len(data) < packed:
        fp.seek(offset + start)
        data = fp.read(packed)
    if len(data) != packed:
        return None
    try:
        content = zlib.decompress(data, -15) if method == 8 else data
    except zlib.error:
        return None
    return content if len(content) == size and zlib.crc32(content) == crc else None
