"""The unpacked-wheel cache: each wheel verified against its RECORD and unpacked once, atomically."""

from __future__ import annotations

import json
import os
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
        _extract(wheel, tmp, package=package)
        (tmp / MARKER).write_text(json.dumps({"filename": filename}))
        publish_dir(tmp, target)
    return target


def _extract(wheel: Path, dest: Path, *, package: str) -> None:
    from installer.sources import WheelFile

    try:
        with zipfile.ZipFile(wheel) as zf:
            WheelFile(zf).validate_record()
            for info in zf.infolist():
                _extract_member(zf, info, dest, package)
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InstallError(f"invalid wheel {wheel.name}: {exc}", package=package) from None


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, package: str) -> None:
    target = (dest / info.filename).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise InstallError(f"wheel member {info.filename!r} points outside the archive", package=package)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, target.open("wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    mode = info.external_attr >> 16
    if mode and stat.S_ISREG(mode) and mode & 0o111:
        os.chmod(target, 0o755)
