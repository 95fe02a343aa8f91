"""The unpacked-wheel cache: each wheel checked against its RECORD and unpacked once, atomically.

Unpacking is file-system bound and, in threads, fights over the GIL (one release per syscall);
so fetch tasks, which run in doit's threads, hand it to a small pool of worker processes.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import InstallError
from tasks.fsutil import publish_dir, temp_beside

if TYPE_CHECKING:
    import zipfile
    from concurrent.futures import Executor

MARKER = ".wheelwright-wheel.json"
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_BIG = 64 << 20  # members above this are streamed rather than read whole

_pool_lock = threading.Lock()
_pool: Executor | None = None


def unpacked_path(cache: Path, sha256: str) -> Path:
    return cache / "archive-v0" / sha256


def is_unpacked(path: Path) -> bool:
    return (path / MARKER).is_file()


def unpack_wheel(wheel: Path, target: Path, *, package: str, filename: str) -> Path:
    """Unpack `wheel` into `target` (RECORD complete, members kept inside, executable bits kept)."""
    if is_unpacked(target):
        return target
    with temp_beside(target, directory=True) as tmp:
        executables = _extract(wheel, tmp, package=package)
        (tmp / MARKER).write_text(json.dumps({"filename": filename, "executables": executables}))
        publish_dir(tmp, target)
    return target


def unpack_wheel_in_worker(wheel: Path, target: Path, *, package: str, filename: str) -> Path:
    """`unpack_wheel` in a worker process (callable from many threads at once)."""
    future = _workers().submit(unpack_wheel, wheel, target, package=package, filename=filename)
    return future.result()


def _workers() -> Executor:
    global _pool
    with _pool_lock:
        if _pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(max_workers=max(2, os.cpu_count() or 2), mp_context=context)
        return _pool


def unpacked_executables(path: Path) -> frozenset[str]:
    """The members that had an executable bit in the wheel (recorded at unpack time)."""
    data = json.loads((path / MARKER).read_text())
    return frozenset(data.get("executables", ()))


def _extract(wheel: Path, dest: Path, *, package: str) -> list[str]:
    """Extract every member; RECORD must list them (the archive's sha256 was already checked)."""
    import zipfile

    from installer.sources import WheelFile

    made: set[str] = {str(dest)}
    try:
        with zipfile.ZipFile(wheel) as zf:
            WheelFile(zf).validate_record(validate_contents=False)
            return [i.filename for i in zf.infolist() if _extract_member(zf, i, str(dest), made, package)]
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InstallError(f"invalid wheel {wheel.name}: {exc}", package=package) from None


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, root: str, made: set[str], package: str
) -> bool:
    """Write one member inside `root`; True when it is an executable file."""
    target = os.path.normpath(os.path.join(root, info.filename))
    if not target.startswith(root + os.sep):
        raise InstallError(f"wheel member {info.filename!r} points outside the archive", package=package)
    if info.is_dir():
        _makedirs(target, made)
        return False
    _makedirs(os.path.dirname(target), made)
    mode = info.external_attr >> 16
    executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
    fd = os.open(target, _WRITE_FLAGS, 0o755 if executable else 0o644)
    try:
        _copy_member(zf, info, fd)
    finally:
        os.close(fd)
    return executable


def _makedirs(path: str, made: set[str]) -> None:
    if path not in made:
        os.makedirs(path, exist_ok=True)
        made.add(path)


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, fd: int) -> None:
    if info.file_size <= _BIG:
        _write_all(fd, zf.read(info))
        return
    with zf.open(info) as src:
        while chunk := src.read(1 << 20):
            _write_all(fd, chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
