"""The unpacked-wheel cache: each wheel verified against its RECORD and unpacked once, atomically."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

from tasks.errors import InstallError
from tasks.fsutil import publish_dir, temp_beside

MARKER = ".wheelwright-wheel.json"


def unpacked_path(cache: Path, sha256: str) -> Path:
    return cache / "archive-v0" / sha256


def is_unpacked(path: Path) -> bool:
    return (path / MARKER).is_file()


def unpack_wheel(wheel: Path, target: Path, *, package: str, filename: str) -> Path:
    """Unpack `wheel` into `target` (verified, members kept inside, executable bits kept)."""
    if is_unpacked(target):
        return target
    with temp_beside(target, directory=True) as tmp:
        executables = _extract(wheel, tmp, package=package)
        (tmp / MARKER).write_text(json.dumps({"filename": filename, "executables": executables}))
        publish_dir(tmp, target)
    return target


def unpacked_executables(path: Path) -> frozenset[str]:
    """The members that had an executable bit in the wheel (recorded at unpack time)."""
    data = json.loads((path / MARKER).read_text())
    return frozenset(data.get("executables", ()))


def _extract(wheel: Path, dest: Path, *, package: str) -> list[str]:
    """Extract every member; RECORD must list them (the archive's sha256 was already checked)."""
    from installer.sources import WheelFile

    try:
        with zipfile.ZipFile(wheel) as zf:
            WheelFile(zf).validate_record(validate_contents=False)
            return [info.filename for info in zf.infolist() if _extract_member(zf, info, dest, package)]
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InstallError(f"invalid wheel {wheel.name}: {exc}", package=package) from None


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, package: str) -> bool:
    """Write one member inside `dest`; True when it is an executable file."""
    root = str(dest)
    target = os.path.normpath(os.path.join(root, info.filename))
    if not target.startswith(root + os.sep):
        raise InstallError(f"wheel member {info.filename!r} points outside the archive", package=package)
    if info.is_dir():
        os.makedirs(target, exist_ok=True)
        return False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with zf.open(info) as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    mode = info.external_attr >> 16
    if mode and stat.S_ISREG(mode) and mode & 0o111:
        os.chmod(target, 0o755)
        return True
    return False
