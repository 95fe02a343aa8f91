"""Cross-process mutexes (flock files) in the cache: one sync per target environment, one download per file.

Lock files live in `cache/locks-v0/`, named by a digest (of the environment's absolute path, or of
the file's expected sha256 or URL), so they work before the environment exists and never touch
the user's directories. They are left in place (removing a lock file is racy) and are tiny.
A read-only cache keeps them in its per-user state directory instead (`move_locks`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tasks.core import layout
from tasks.core.eventkinds import Waiting
from tasks.core.events import emit
from tasks.core.urls import digest

NOTICE_AFTER = 1.0  # seconds of waiting before saying why

# A read-only cache (absolute path) → where its lock files are kept instead. Process-wide: set once per
# cache by `tasks.stages.common.open_cache` while the run starts (`move_locks`), before any task runs,
# and keyed by the cache's path, so every lock of that cache, whichever layer takes it (`venv_lock`,
# `download_lock`, the cache lock), finds one directory from the `cache` it is already handed.
_moved: dict[str, Path] = {}


def move_locks(cache: Path, directory: Path) -> None:
    """Keep the lock files of the read-only `cache` in `directory` (a per-user state directory)."""
    _moved[os.path.abspath(cache)] = directory


def locks_dir(cache: Path) -> Path:
    moved = _moved.get(os.path.abspath(cache)) if _moved else None
    return (moved or cache) / layout.LOCKS.name


def notice(message: str, path: Path | None = None) -> None:
    """The one place a wait is reported: a `waiting` event (a line on stderr)."""
    emit(Waiting(message, path=str(path) if path else None))


@contextlib.contextmanager
def held(path: Path, waiting: str) -> Iterator[None]:
    """Hold the lock file `path`; when it takes longer than NOTICE_AFTER, say `waiting` once."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=NOTICE_AFTER)
    except Timeout:
        notice(waiting, path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def venv_lock(cache: Path, venv: Path) -> contextlib.AbstractContextManager[None]:
    """Held while a sync creates or changes `venv` (keyed by its resolved absolute path)."""
    key = digest(str(venv.resolve()))
    return held(locks_dir(cache) / f"venv-{key}.lock", f"waiting for another sync of {venv}")


def download_lock(cache: Path, key: str, filename: str) -> contextlib.AbstractContextManager[None]:
    """Held around check-download-unpack of one file, so processes sharing a cache fetch it once."""
    return held(
        locks_dir(cache) / f"download-{digest(key)}.lock", f"waiting for another download of {filename}"
    )
