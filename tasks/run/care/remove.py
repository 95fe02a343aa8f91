"""Doing cache care: `./doit cache` reports each family's size; `./doit prune` removes what
`plan_prune` chose, under the cache's exclusive lock, and says what and why."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tasks.core import layout
from tasks.core.eventkinds import CacheUsage, Pruned, PruneDone
from tasks.core.events import emit, human_bytes
from tasks.core.rwlock import exclusive_cache
from tasks.run.care.rules import Policy, plan_prune
from tasks.run.care.scan import Entry, freeable, scan


def report(cache: Path) -> None:
    """`./doit cache`: one `cache_usage` event per family (bytes, entries), then the total."""
    entries = scan(cache).entries
    families: dict[str, list[Entry]] = {}
    for e in entries:
        families.setdefault(e.family, []).append(e)
    emit(CacheUsage(path=str(cache), bytes=sum(e.size for e in entries), count=len(entries)))
    for family, members in families.items():
        what = layout.family(family).what
        size = sum(e.size for e in members)
        emit(CacheUsage(path=family, bytes=size, count=len(members), message=what))


def prune(cache: Path, policy: Policy) -> None:
    """`./doit prune`: under the cache's exclusive lock, remove what `plan_prune` chose, and say so."""
    with exclusive_cache(cache):
        found = scan(cache, facts=True)
        before = sum(e.size for e in found.entries)
        freed, removed = 0, 0
        for removal in plan_prune(found, policy, time.time()):
            if not removal.path.exists() and not removal.path.is_symlink():
                continue  # inside an entry removed just before
            size = freeable(removal.path)
            _remove(removal.path)
            _drop_empty_parents(removal.path, cache)
            freed, removed = freed + size, removed + 1
            where = str(removal.path.relative_to(cache))
            emit(Pruned(path=where, bytes=size, message=removal.reason))
        for family in cache.iterdir():  # a family left empty (downloads-v0 between runs) goes too
            if family.is_dir() and not any(family.iterdir()):
                family.rmdir()
        after = sum(e.size for e in scan(cache).entries)
    sizes = f"{human_bytes(before)} before, {human_bytes(after)} after"
    emit(PruneDone(path=str(cache), count=removed, bytes=freed, message=sizes))


def _drop_empty_parents(path: Path, cache: Path) -> None:
    """The directories above a removed entry that it left empty (bucket groups, a whole family)."""
    for parent in path.parents:
        if parent == cache or cache not in parent.parents:
            return
        try:
            parent.rmdir()
        except OSError:  # not empty: everything above stays too
            return


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.with_name(path.name + ".lock").unlink(missing_ok=True)  # the entry's own lock (HTTP, build env)
