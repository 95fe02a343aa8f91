"""Members larger than one chunk: unpacked byte for byte in chunks, and refused like any other member.

`tasks/wheels/unpacked.py` reads a member that fits in one chunk whole and streams a larger one. A
hostile large member (bad CRC, a hash or size that RECORD does not give, a path out of the entry)
is refused with the cache as it was: no entry, no temporary directory left beside it. A member that
inflates past its RECORD size is refused before it is written; a file-size limit stands in for a
disk it would fill.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tasks.core.errors import InstallError, InvalidWheel
from tasks.wheels.unpacked import MARKER, is_unpacked, unpack_wheel
from tests.support.wheels import metadata_text

ROOT = Path(__file__).resolve().parent.parent

DIST_INFO = "big-1.0.dist-info"
FILENAME = "big-1.0-py3-none-any.whl"
LARGE = 3 * (1 << 20) + 12345  # three chunks and a part


def row(member: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{member},sha256={digest},{len(data)}"


def write_wheel(
    dest: Path, files: dict[str, bytes], *, rows: dict[str, str] | None = None, stored: bool = False
) -> Path:
    """A wheel of `files` and its dist-info; `rows` replace RECORD's rows for the members they name."""
    members = {**files, f"{DIST_INFO}/METADATA": metadata_text("big", "1.0").encode()}
    members[f"{DIST_INFO}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [(rows or {}).get(name, row(name, data)) for name, data in members.items()]
    members[f"{DIST_INFO}/RECORD"] = ("\n".join([*record, f"{DIST_INFO}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
            zf.writestr(info, data)
    wheel = dest / FILENAME
    wheel.write_bytes(buffer.getvalue())
    return wheel


def noise(size: int) -> bytes:
    """Bytes that do not compress (a shared object's worth of entropy)."""
    return random.Random(size).randbytes(size)


def left_in(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache directory that already holds another entry (which must stay as it was)."""
    path = tmp_path / "cache" / "archive-v0"
    (path / "other").mkdir(parents=True)
    (path / "other" / "kept").write_text("kept\n")
    return path


def test_a_member_larger_than_a_chunk_is_unpacked_byte_for_byte(tmp_path: Path, cache: Path) -> None:
    large, script = noise(LARGE), b"#!/bin/sh\n" + b"echo big\n" * 200_000
    wheel = write_wheel(tmp_path, {"big/lib.so": large, "big/run.sh": script, "big/__init__.py": b""})
    target = unpack_wheel(wheel, cache / "entry", package="big", filename=FILENAME)
    assert is_unpacked(target)
    assert (target / "big" / "lib.so").read_bytes() == large
    assert (target / "big" / "run.sh").read_bytes() == script
    assert (target / "big" / "run.sh").stat().st_mode & 0o111
    assert f'"big/lib.so": [{LARGE},' in (target / MARKER).read_text()
    assert left_in(cache) == ["entry", "other"]


def test_a_large_member_with_a_bad_crc_is_refused_and_the_cache_is_as_it_was(
    tmp_path: Path, cache: Path
) -> None:
    large = noise(LARGE)
    wheel = write_wheel(tmp_path, {"big/lib.so": large}, stored=True)
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo("big/lib.so")
    raw = bytearray(wheel.read_bytes())
    header = raw[info.header_offset : info.header_offset + 30]
    start = (
        info.header_offset
        + 30
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    raw[start + LARGE - 10] ^= 0xFF  # the last chunk: the CRC is found wrong only at the stream's end
    wheel.write_bytes(bytes(raw))
    with pytest.raises(InvalidWheel, match="CRC"):
        unpack_wheel(wheel, cache / "entry", package="big", filename=FILENAME)
    assert left_in(cache) == ["other"]
    assert (cache / "other" / "kept").read_text() == "kept\n"


@pytest.mark.parametrize("lie", ["hash", "size"])
def test_a_large_member_that_does_not_match_its_record_is_refused(
    tmp_path: Path, cache: Path, lie: str
) -> None:
    large = noise(LARGE)
    claimed = row("big/lib.so", large[:-1] + b"!" if lie == "hash" else large + b"!")
    wheel = write_wheel(tmp_path, {"big/lib.so": large}, rows={"big/lib.so": claimed})
    expected = "sha256" if lie == "hash" else f"RECORD says {LARGE + 1}"
    with pytest.raises(InvalidWheel, match=expected):
        unpack_wheel(wheel, cache / "entry", package="big", filename=FILENAME)
    assert left_in(cache) == ["other"]


def test_a_large_member_that_points_outside_the_entry_is_refused(tmp_path: Path, cache: Path) -> None:
    wheel = write_wheel(tmp_path, {"../escaped.so": noise(LARGE), "big/__init__.py": b""})
    with pytest.raises(InstallError):
        unpack_wheel(wheel, cache / "entry", package="big", filename=FILENAME)
    assert left_in(cache) == ["other"]
    assert not (cache / "escaped.so").exists()


CHILD = """
import resource, signal, sys
from pathlib import Path
from tasks.core.errors import InvalidWheel
from tasks.wheels.unpacked import unpack_wheel

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    unpack_wheel(Path(sys.argv[1]), Path(sys.argv[2]), package="big", filename=sys.argv[3])
except InvalidWheel as exc:
    print(f"refused: {exc}")
"""


def test_a_member_that_inflates_past_its_record_size_is_refused_before_it_is_written(
    tmp_path: Path, cache: Path
) -> None:
    """A 32 MB member of zeros (32 KB in the zip) whose RECORD row gives 10 bytes: refused before a
    byte is written, so it cannot fill a disk that has 4 MB left."""
    bomb = bytes(32 << 20)
    wheel = write_wheel(
        tmp_path, {"big/data.bin": bomb}, rows={"big/data.bin": row("big/data.bin", bomb[:10])}
    )
    assert wheel.stat().st_size < 1 << 20
    args = [sys.executable, "-c", CHILD, str(wheel), str(cache / "entry"), FILENAME]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused:" in done.stdout and "RECORD says 10" in done.stdout
    assert left_in(cache) == ["other"]
