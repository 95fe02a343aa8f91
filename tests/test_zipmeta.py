"""A wheel's METADATA read without its whole zip directory (`tasks.index.zipmeta`): the bytes zipfile
gives when it is sure, None (zipfile reads the wheel instead) whenever it is not."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import pytest

from tasks.core.errors import InvalidWheel
from tasks.index.wheelmeta import metadata_text
from tasks.index.zipmeta import metadata_member

META = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: lib>=1\n\n"


def wheel(
    members: Mapping[str, bytes],
    method: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
    before: bytes = b"",
) -> bytes:
    buffer = io.BytesIO()
    buffer.write(before)
    with zipfile.ZipFile(buffer, "a" if before else "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.comment = comment
    return buffer.getvalue()


def plain(extra: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    members = {f"demo/m{i}.py": b"x = %d\n" % i for i in range(300)}  # a directory of some size
    members["demo-1.0.dist-info/METADATA"] = META
    members["demo-1.0.dist-info/RECORD"] = b""
    return {**members, **(extra or {})}


@pytest.mark.parametrize(
    "data",
    [
        wheel(plain()),
        wheel(plain(), zipfile.ZIP_STORED),
        wheel(plain(), comment=b"a comment"),
        wheel(plain(), before=b"#!/bin/sh\nexit 0\n"),  # written after a stub: offsets count it
        wheel(plain({"demo/_vendor/other-2.0.dist-info/METADATA": b"Name: other\n"})),  # nested: not ours
        wheel({"demo-1.0.dist-info/METADATA": META}),
    ],
    ids=["deflated", "stored", "comment", "stub", "vendored-dist-info", "only-member"],
)
def test_the_member_is_what_zipfile_reads(data: bytes) -> None:
    assert metadata_member(io.BytesIO(data)) == META
    assert metadata_text(io.BytesIO(data), "demo") == META.decode()


@pytest.mark.parametrize(
    "data",
    [
        b"#!/bin/sh\nexit 0\n" + wheel(plain()),  # a stub put before a zip: its offsets are off
        wheel(plain({"demo-1.0.dist-info/METADATA.orig": b"old"})),  # the name inside a longer one
        wheel(plain({"other-1.0.dist-info/METADATA": b"Name: other\n"})),  # two at the top
        wheel({"demo/__init__.py": b""}),  # none
        b"not a zip at all",
    ],
    ids=["prefixed", "longer-name", "two", "none", "not-a-zip"],
)
def test_when_unsure_it_leaves_the_wheel_to_zipfile(data: bytes) -> None:
    assert metadata_member(io.BytesIO(data)) is None


def test_a_damaged_member_is_left_to_zipfile_and_its_error() -> None:
    data = bytearray(wheel(plain(), zipfile.ZIP_STORED))
    at = bytes(data).find(b"Requires-Dist: lib")
    data[at] = ord("X")  # the stored bytes no longer match their CRC
    assert metadata_member(io.BytesIO(bytes(data))) is None
    with pytest.raises(InvalidWheel, match="Bad CRC"):
        metadata_text(io.BytesIO(bytes(data)), "demo")


def test_zipfile_still_decides_the_cases_it_is_left() -> None:
    assert metadata_text(io.BytesIO(b"#!\n" + wheel(plain())), "demo") == META.decode()
    with pytest.raises(InvalidWheel, match="no single"):
        metadata_text(io.BytesIO(wheel(plain({"other-1.0.dist-info/METADATA": b"x"}))), "demo")
