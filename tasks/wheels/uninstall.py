"""Removing an installed distribution: what its RECORD lists, never anything outside the environment.

Paths are resolved through symlinks first: a row under a symlink that leads out of the environment
is left alone, a symlink inside is removed itself (not its target); emptied directories, the files'
`__pycache__` entries and the .dist-info go with them.
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
from pathlib import Path


def uninstall(dist_info: Path, env_prefix: Path, fallback_record: Path | None = None) -> int:
    """Remove what a distribution's RECORD lists, never anything outside `env_prefix`.

    Paths are resolved through symlinks before anything is removed: a row under a symlink that
    leads out of the environment is left alone; a symlink inside is removed itself, not its target.
    Without a RECORD (a killed install), `fallback_record` (the wheel's own) says what to remove.
    """
    site = Path(os.path.realpath(dist_info.parent))
    prefix = Path(os.path.realpath(env_prefix))
    record = dist_info / "RECORD"
    if not record.is_file() and fallback_record is not None:
        record = fallback_record
    paths = {p for p in (_resolved(site, row) for row in _record_rows(record)) if _inside(p, prefix)}
    removed = 0
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=True):
        if _remove_file(path):
            removed += 1
            _remove_pycache_for(path)
    for directory in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        _prune_empty(directory, site, prefix)
    _remove_dist_info(dist_info)
    return removed


def _record_rows(record: Path) -> list[str]:
    try:
        with record.open(newline="", encoding="utf-8", errors="replace") as f:
            return [row[0] for row in csv.reader(f) if row and row[0]]
    except (OSError, csv.Error):
        return []


def _resolved(site: Path, row: str) -> Path:
    """The row's path with its directory resolved through symlinks (its last part kept as is)."""
    path = os.path.normpath(os.path.join(site, row))
    return Path(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _inside(path: Path, prefix: Path) -> bool:
    """`path` (its parent already resolved) lies strictly inside the real `prefix`."""
    return path != prefix and path.is_relative_to(prefix) and path.name not in ("", "..", ".")


def _remove_file(path: Path) -> bool:
    """Unlink a file or a symlink (never what a symlink points to, never a directory)."""
    try:
        if stat.S_ISDIR(path.lstat().st_mode):
            return False
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def _remove_pycache_for(path: Path) -> None:
    if path.suffix != ".py":
        return
    cache = path.parent / "__pycache__"
    if cache.is_dir() and not cache.is_symlink():
        for pyc in cache.glob(f"{path.stem}.*.pyc"):
            pyc.unlink(missing_ok=True)


def _prune_empty(directory: Path, site: Path, prefix: Path) -> None:
    """Remove emptied directories up to `site`; only real directories inside `prefix`."""
    while directory != site and _inside(directory, prefix) and _is_real_dir(directory):
        pycache = directory / "__pycache__"
        if _is_real_dir(pycache) and not any(pycache.iterdir()):
            pycache.rmdir()
        if any(directory.iterdir()):
            return
        directory.rmdir()
        directory = directory.parent


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _remove_dist_info(dist_info: Path) -> None:
    """The .dist-info directory itself (a symlink in its place is unlinked, its target left alone)."""
    if dist_info.is_symlink():
        dist_info.unlink()
    else:
        shutil.rmtree(dist_info, ignore_errors=True)
