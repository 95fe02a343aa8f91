"""The unpacked-wheel cache: each wheel checked against its RECORD and unpacked once, atomically.

Every member is hashed while it is written and compared with its RECORD row (hash and size): a
wheel that does not match is refused and nothing is published. The marker records each file's
size and mtime as unpacked. An entry damaged later (a file removed or resized, an unreadable
marker, or a file edited in place through a hard link in some environment) is found by
`entry_damage`: one stat per file, and only a file whose size or mtime moved is hashed again
against RECORD. A damaged entry is removed by `evict`, so the caller can fetch it again.

A member is written in chunks of at most `_CHUNK` bytes (a member that fits in one is read whole), so
an unpacking process holds about one chunk whatever the wheel (torch's 60 MB shared objects
included). A member whose size in the archive is not its RECORD size is refused before a byte of it
is written: a small RECORD cannot hide a member that inflates to fill the disk.

Unpacking is file-system bound and, in threads, fights over the GIL (one release per syscall);
so fetch tasks, which run in doit's threads, hand it to a small pool of worker processes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import stat
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import layout
from tasks.core.errors import InstallError, InvalidWheel
from tasks.core.events import warn
from tasks.core.files import atomic_write_text, publish_dir, temp_beside
from tasks.core.lastuse import mark_used

if TYPE_CHECKING:
    import zipfile
    from concurrent.futures import Executor

    from installer.records import RecordEntry

MARKER = layout.WHEEL_MARKER
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_CHUNK = 1 << 20  # a member up to this is read whole (one read, one write); a larger one is streamed

# Process-wide on purpose: the worker processes that unpack downloaded wheels (forkserver), started by
# the first `unpack_wheel_in_worker` (so a no-op starts none) and shared by every thread doit runs a
# run's tasks in. Starting workers costs far more than one unpack, so one pool serves the process;
# nothing configures it (its size is the machine's cores), so there is nothing to hand down.
_pool_lock = threading.Lock()
_pool: Executor | None = None


def unpacked_path(cache: Path, sha256: str) -> Path:
    return cache / layout.ARCHIVE.name / sha256


def is_unpacked(path: Path) -> bool:
    """True when the entry is complete; an entry whose marker cannot be read is evicted (False)."""
    if not (path / MARKER).is_file():
        return False
    try:
        _read_marker(path)
    except (OSError, ValueError) as exc:
        evict(path, f"its marker cannot be read ({exc})")
        return False
    mark_used(path / MARKER)  # `./doit prune days=N` keeps what was used lately
    return True


def evict(path: Path, reason: str) -> None:
    """Remove a damaged cache entry (renamed away first, so no reader sees it half-deleted)."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.evicted")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process evicted it first
    warn(f"removed damaged cache entry {path}: {reason}; making it again")
    shutil.rmtree(aside, ignore_errors=True)


def entry_damage(path: Path) -> str | None:
    """What no longer matches in an unpacked entry, or None (one stat a file; a moved file is hashed).

    A file whose size and mtime are those recorded at unpack is taken as unpacked; one whose stamp
    moved is hashed against its RECORD row, and the entry is damaged when it differs. A file that
    was only touched gets its new stamp recorded, so it is hashed once. An entry unpacked before
    stamps were recorded is hashed whole, once, and stamped.
    """
    try:
        marker = _read_marker(path)
    except (OSError, ValueError) as exc:
        return f"cannot read it ({exc})"
    files = marker.get("files")
    if not isinstance(files, dict):
        return _verified_and_stamped(path, marker)
    root = str(path)
    moved = []
    for member, (size, mtime) in files.items():
        try:
            found = os.stat(root + os.sep + member)
        except OSError:
            return f"{member} is missing"
        if found.st_size != size or found.st_mtime_ns != mtime:
            moved.append(member)
    return _verified_and_stamped(path, marker, moved) if moved else None


def _verified_and_stamped(
    path: Path, marker: dict[str, object], members: list[str] | None = None
) -> str | None:
    """Hash `members` (every RECORD row when None) against RECORD; record their stamps when they match."""
    try:
        rows = _entry_rows(path)
    except (OSError, ValueError) as exc:
        return f"cannot read it ({exc})"
    checked = sorted(rows) if members is None else members
    for member in checked:
        damage = _member_damage(path, member, rows.get(member))
        if damage is not None:
            return damage
    known = marker.get("files")
    files = dict(known) if isinstance(known, dict) else {}
    if members is None:  # stamped for the first time: RECORD itself and its signatures too
        checked = [*checked, *_unhashed(path)]
    with contextlib.suppress(OSError):  # a read-only cache is checked again next time
        files.update({member: _stamp(path / member) for member in checked})
        atomic_write_text(path / MARKER, json.dumps({**marker, "files": files}))
    return None


def _member_damage(path: Path, member: str, row: tuple[str, int | None] | None) -> str | None:
    """Why `member` no longer matches its RECORD row (hash and size), or None."""
    try:
        data = (path / member).read_bytes()
    except OSError:
        return f"{member} is missing"
    if row is None:
        return f"{member} changed since it was unpacked (RECORD gives no hash to check it against)"
    algorithm, _, expected = row[0].partition("=")
    if algorithm not in hashlib.algorithms_guaranteed:
        return f"{member}: RECORD uses hash {algorithm!r}"
    digest = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).decode("ascii").rstrip("=")
    if digest != expected or (row[1] is not None and row[1] != len(data)):
        return f"{member} was changed after it was unpacked (it no longer matches RECORD)"
    return None


def _stamp(path: Path) -> list[int]:
    found = os.stat(path)
    return [found.st_size, found.st_mtime_ns]


def _unhashed(path: Path) -> list[str]:
    """The entry's files that RECORD gives no hash for (RECORD itself, signatures)."""
    info = next(p for p in path.iterdir() if p.name.endswith(".dist-info") and p.is_dir())
    return [f"{info.name}/{p.name}" for p in info.iterdir() if p.name.startswith("RECORD") and p.is_file()]


def _read_marker(path: Path) -> dict[str, object]:
    data = json.loads((path / MARKER).read_text())
    if not isinstance(data, dict) or not isinstance(data.get("executables", []), list):
        raise ValueError(f"{MARKER} is not a wheelwright marker")
    return data


def _entry_rows(path: Path) -> dict[str, tuple[str, int | None]]:
    """The entry's RECORD rows (member: hash, size), its own RECORD and signatures left out."""
    from installer.records import parse_record_file

    infos = [p for p in path.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} .dist-info directories")
    text = (infos[0] / "RECORD").read_text(encoding="utf-8")
    rows = {}
    for member, hash_, size in parse_record_file(text.splitlines()):
        if hash_:
            rows[member] = (hash_, int(size) if size else None)
    return rows


def unpack_wheel(wheel: Path, target: Path, *, package: str, filename: str) -> Path:
    """Unpack `wheel` into `target` (RECORD complete, members kept inside, executable bits kept)."""
    if is_unpacked(target):
        return target
    with temp_beside(target, directory=True) as tmp:
        executables, files = _extract(wheel, tmp, package=package, filename=filename)
        marker = {"filename": filename, "executables": executables, "files": files}
        (tmp / MARKER).write_text(json.dumps(marker))
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
    from tasks.core.errors import CacheEntryDamaged

    try:
        data = _read_marker(path)
    except (OSError, ValueError) as exc:
        raise CacheEntryDamaged(f"cannot read the cache entry's marker ({exc})", source=str(path)) from None
    executables = data.get("executables", [])
    assert isinstance(executables, list)  # _read_marker made sure
    return frozenset(map(str, executables))


def _extract(
    wheel: Path, dest: Path, *, package: str, filename: str
) -> tuple[list[str], dict[str, list[int]]]:
    """Extract every member, each checked against its RECORD row (hash and size) as it is written;
    first the archive (it reads one way only) and METADATA (it names the filename's project and version).

    Returns the executable members, and each file's [size, mtime_ns] as written.
    """
    import zipfile
    import zlib

    from installer.sources import WheelFile

    from tasks.wheels.trust import check_identity
    from tasks.wheels.zipcheck import check_archive

    check_archive(wheel, package=package)
    made: set[str] = {str(dest)}
    try:
        with zipfile.ZipFile(wheel) as zf:
            source = WheelFile(zf)
            check_identity(filename, source.read_dist_info("METADATA"), package=package)
            source.validate_record(validate_contents=False)
            rows = _record_entries(source)
            absent = sorted(set(rows) - set(zf.namelist()))
            if absent:
                raise InvalidWheel(f"{wheel.name}: RECORD lists {absent[0]}, not in it", package=package)
            files: dict[str, list[int]] = {}
            executables = [
                i.filename
                for i in zf.infolist()
                if _extract_member(zf, i, str(dest), made, package, rows.get(i.filename), files)
            ]
            return executables, files
    except (zipfile.BadZipFile, ValueError, KeyError, EOFError, zlib.error) as exc:
        raise InvalidWheel(f"invalid wheel {wheel.name}: {exc}", package=package) from None


def _record_entries(source: object) -> dict[str, RecordEntry]:
    """RECORD's rows that carry a hash (validate_record made sure every member but RECORD has one)."""
    from installer.records import RecordEntry, parse_record_file

    text = source.read_dist_info("RECORD")  # type: ignore[attr-defined]
    entries = (RecordEntry.from_elements(*row) for row in parse_record_file(text.splitlines()))
    return {entry.path: entry for entry in entries if entry.hash_ is not None}


def _extract_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    root: str,
    made: set[str],
    package: str,
    record: RecordEntry | None,
    files: dict[str, list[int]],
) -> bool:
    """Write one member inside `root` and check it against `record`; True when it is executable.

    Its size and mtime as written go to `files` (the marker's record of the entry at unpack).
    """
    target = os.path.normpath(os.path.join(root, info.filename))
    if not target.startswith(root + os.sep):
        raise InstallError(f"wheel member {info.filename!r} points outside the archive", package=package)
    if info.is_dir():
        _makedirs(target, made)
        return False
    _check_declared_size(record, info, package)
    _makedirs(os.path.dirname(target), made)
    mode = info.external_attr >> 16
    executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
    fd = os.open(target, _WRITE_FLAGS, 0o755 if executable else 0o644)
    try:
        hashed, size = _copy_member(zf, info, fd, _hasher(record, info.filename, package))
        written = os.fstat(fd)
    finally:
        os.close(fd)
    files[os.path.relpath(target, root).replace(os.sep, "/")] = [written.st_size, written.st_mtime_ns]
    _check_member(record, hashed, size, info.filename, package)
    return executable


def _hasher(record: RecordEntry | None, member: str, package: str) -> hashlib._Hash | None:
    if record is None or record.hash_ is None:
        return None  # RECORD itself and its signatures carry no hash
    if record.hash_.name not in hashlib.algorithms_guaranteed or record.hash_.name in ("md5", "sha1"):
        raise InvalidWheel(f"RECORD uses hash {record.hash_.name!r} for {member}", package=package)
    return hashlib.new(record.hash_.name)


def _check_declared_size(record: RecordEntry | None, info: zipfile.ZipInfo, package: str) -> None:
    """Refuse a member whose size in the archive is not its RECORD size, before it is written.

    zipfile reads no more than the archive's size (and checks the CRC at its end), so what is
    written is bounded by what RECORD promised.
    """
    if record is not None and record.size is not None and record.size != info.file_size:
        raise InvalidWheel(
            f"wheel member {info.filename} does not match its RECORD: {info.file_size} bytes in the "
            f"archive, RECORD says {record.size}",
            package=package,
        )


def _check_member(
    record: RecordEntry | None, hashed: hashlib._Hash | None, size: int, member: str, package: str
) -> None:
    if record is None or record.hash_ is None or hashed is None:
        return
    digest = base64.urlsafe_b64encode(hashed.digest()).decode("ascii").rstrip("=")
    if digest != record.hash_.value:
        raise InvalidWheel(
            f"wheel member {member} does not match its RECORD: {record.hash_.name} {digest}, "
            f"RECORD says {record.hash_.value}",
            package=package,
        )
    if record.size is not None and record.size != size:
        raise InvalidWheel(
            f"wheel member {member} does not match its RECORD: {size} bytes, RECORD says {record.size}",
            package=package,
        )


def _makedirs(path: str, made: set[str]) -> None:
    if path not in made:
        os.makedirs(path, exist_ok=True)
        made.add(path)


def _copy_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, fd: int, hashed: hashlib._Hash | None
) -> tuple[hashlib._Hash | None, int]:
    """Copy one member into `fd` in chunks of at most `_CHUNK`, hashing what is written; the hash and
    the byte count (a member that fits in one chunk is read whole: one read, one write)."""
    if info.file_size <= _CHUNK:
        data = zf.read(info)
        _write_all(fd, data, hashed)
        return hashed, len(data)
    size = 0
    with zf.open(info) as src:
        while chunk := src.read(_CHUNK):
            _write_all(fd, chunk, hashed)
            size += len(chunk)
    return hashed, size


def _write_all(fd: int, data: bytes, hashed: hashlib._Hash | None) -> None:
    if hashed is not None:
        hashed.update(data)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
