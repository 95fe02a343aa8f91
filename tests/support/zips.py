"""Zip archives written byte by byte, for the shapes `zipfile` will not write: an archive appended to
another, local headers that disagree with the central directory, duplicate names, overlapping entries."""

from __future__ import annotations

import base64
import hashlib
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Entry:
    """One member as the central directory lists it; `local_*` make its local header say otherwise."""

    name: str
    data: bytes
    offset: int = -1  # where its local header is (set by `write_local`, or by hand for an overlap)
    local_name: str | None = None
    local_crc: int | None = None
    local_size: int | None = None


def local_header(entry: Entry) -> bytes:
    """A stored (uncompressed) member's local header and data."""
    name = (entry.local_name or entry.name).encode()
    crc = zlib.crc32(entry.data) if entry.local_crc is None else entry.local_crc
    size = len(entry.data) if entry.local_size is None else entry.local_size
    header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, 0, 0, 0x21, crc, size, size, len(name), 0)
    return header + name + entry.data


def central_header(entry: Entry) -> bytes:
    name = entry.name.encode()
    crc, size = zlib.crc32(entry.data), len(entry.data)
    fields = (b"PK\x01\x02", 0x314, 20, 0x800, 0, 0, 0x21, crc, size, size, len(name), 0, 0, 0, 0)
    return struct.pack("<4s6H3L5H2L", *fields, 0o644 << 16, entry.offset) + name


def end_record(count: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return (
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, len(comment)) + comment
    )


def raw_zip(entries: list[Entry], locals_: bytes | None = None) -> bytes:
    """Local headers (each entry's, in order, unless `locals_` gives the bytes and the entries their
    offsets), then the central directory, then the end record."""
    if locals_ is None:
        parts = []
        at = 0
        for entry in entries:
            entry.offset = at
            blob = local_header(entry)
            parts.append(blob)
            at += len(blob)
        locals_ = b"".join(parts)
    directory = b"".join(central_header(e) for e in entries)
    return locals_ + directory + end_record(len(entries), len(directory), len(locals_))


def wheel_members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def with_record(members: dict[str, bytes]) -> dict[str, bytes]:
    """`members` with a RECORD listing each of them (hash and size), so only the zip itself is wrong."""
    record = next(name for name in members if name.endswith(".dist-info/RECORD"))
    rows = [f"{name},sha256={_b64(data)},{len(data)}" for name, data in members.items() if name != record]
    return {
        **{k: v for k, v in members.items() if k != record},
        record: ("\n".join([*rows, f"{record},,"]) + "\n").encode(),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def entries_of(members: dict[str, bytes]) -> list[Entry]:
    return [Entry(name, data) for name, data in members.items()]
