"""Atomic file and directory writes: a temp file beside the target, then rename."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def umask() -> int:
    """The process's umask: read from /proc (changing it to read it would race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        old = os.umask(0o022)
        os.umask(old)
    return old


_umask_lock = threading.Lock()


def new_file_mode(target: Path) -> int:
    """The mode a rewritten file keeps (its own, when it exists), else what `open()` would give it."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~umask()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write `target` whole or not at all, with the mode a plain write would give it (mkstemp's is 0600)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, new_file_mode(target))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


@contextlib.contextmanager
def temp_beside(target: Path, *, directory: bool = False) -> Iterator[Path]:
    """A temp file or directory next to `target`, removed unless the caller renamed it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    if directory:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix, suffix=".tmp"))
    else:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def publish_dir(tmp: Path, target: Path) -> bool:
    """Rename a finished temp directory into place; False when another process got there first."""
    try:
        os.rename(tmp, target)
        return True
    except OSError:
        if target.is_dir():
            return False
        raise
