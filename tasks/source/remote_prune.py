"""`prune remote=1`: remove what no runner has read or written for a while from the shared build cache.

An entry of the store (`built-v0/<name>/<key>/`: its wheel, `entry.json`, and the `used` record a
reader rewrites at most daily) is as recent as the newest of its objects, by the store's own times.
`days=N` removes entries older than that; `max-size=SIZE` then removes the oldest entries until the
rest fits. An entry without `entry.json` is an upload under way (the wheel goes first, the entry
last) or one that died: it is left alone for `GRACE` seconds, then removed as an orphan. An entry is
removed `entry.json` first, so no reader takes a wheel that is about to go. The decisions are pure
(`plan_remote_prune`), the removal is the store's `delete`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tasks.core.eventkinds import Pruned, PruneDone
from tasks.core.events import emit, human_bytes
from tasks.core.objectstore import ObjectInfo, ObjectStore
from tasks.source.remote import ROOT

GRACE = 86400.0  # seconds an entry without entry.json may be an upload under way


@dataclass(frozen=True)
class StoreEntry:
    """One key's objects, their total size and the time of the newest."""

    prefix: str  # built-v0/<name>/<key>
    keys: tuple[str, ...]
    size: int
    active: float
    published: bool  # has entry.json


@dataclass(frozen=True)
class StoreRemoval:
    entry: StoreEntry
    reason: str


def group_entries(objects: list[ObjectInfo]) -> list[StoreEntry]:
    """The store's objects gathered by entry (objects outside `built-v0/<name>/<key>/` are not ours)."""
    grouped: dict[str, list[ObjectInfo]] = defaultdict(list)
    for info in objects:
        parts = info.key.split("/")
        if len(parts) >= 4 and parts[0] == ROOT:
            grouped["/".join(parts[:3])].append(info)
    return [
        StoreEntry(
            prefix,
            tuple(sorted((o.key for o in found), key=lambda k: (not k.endswith("/entry.json"), k))),
            sum(o.size for o in found),
            max(o.modified.timestamp() for o in found),
            any(o.key.endswith("/entry.json") for o in found),
        )
        for prefix, found in sorted(grouped.items())
    ]


def plan_remote_prune(
    entries: list[StoreEntry], days: float | None, max_size: int | None, now: float
) -> list[StoreRemoval]:
    """Which entries go, and why: orphans past the grace period, the unused, then the oldest over max-size."""
    chosen: dict[str, StoreRemoval] = {}
    for entry in entries:
        age = now - entry.active
        if not entry.published and age > GRACE:
            chosen[entry.prefix] = StoreRemoval(entry, "an upload that never published its entry")
        elif entry.published and days is not None and age > days * 86400:
            chosen[entry.prefix] = StoreRemoval(entry, f"not read or written for {days:g} days")
    if max_size is not None:
        kept = sorted((e for e in entries if e.prefix not in chosen and e.published), key=lambda e: e.active)
        total = sum(e.size for e in entries if e.prefix not in chosen)
        for entry in kept:
            if total <= max_size:
                break
            chosen[entry.prefix] = StoreRemoval(
                entry, f"least recently used (above max-size={max_size} bytes)"
            )
            total -= entry.size
    return list(chosen.values())


def prune_store(store: ObjectStore, days: float | None, max_size: int | None, now: float) -> None:
    """List, decide, delete (entry.json first); one `pruned` event per entry, then `prune_done`."""
    entries = group_entries(list(store.list(ROOT)))
    before = sum(e.size for e in entries)
    freed = 0
    removals = plan_remote_prune(entries, days, max_size, now)
    for removal in removals:
        for key in removal.entry.keys:
            store.delete(key)
        freed += removal.entry.size
        where = f"{store.url.rstrip('/')}/{removal.entry.prefix}"
        emit(Pruned(path=where, bytes=removal.entry.size, message=removal.reason))
    sizes = f"{human_bytes(before)} before, {human_bytes(before - freed)} after"
    emit(PruneDone(path=store.url, count=len(removals), bytes=freed, message=sizes))
