"""What a prune removes, and why: pure rules over a scan (`plan_prune`), no disk, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.core import layout
from tasks.run.care.scan import Entry, Scan

DAY = 86400.0
BUILT, WHEELS = layout.BUILT_METADATA.name, layout.BUILT_WHEELS.name


@dataclass(frozen=True)
class Policy:
    days: float | None = None
    ci: bool = False
    max_size: int | None = None


@dataclass(frozen=True)
class Removal:
    path: Path
    reason: str


def plan_prune(scan: Scan, policy: Policy, now: float) -> list[Removal]:
    """What a prune removes and why (a pure decision over the scan's entries and facts)."""
    entries = scan.entries
    chosen: dict[Path, str] = {}
    for removal in [*_leftovers(entries), *_stale_builds(scan), *_old_url_downloads(entries)]:
        chosen.setdefault(removal.path, removal.reason)
    for entry in entries:
        reason = _by_policy(scan, entry, policy, now) or _http_past_use(entry, now)
        if reason:
            chosen.setdefault(entry.path, reason)
    _orphan_checkouts(entries, chosen)
    if policy.max_size is not None:
        _fit(scan, chosen, policy.max_size)
    return [Removal(path, reason) for path, reason in chosen.items()]


def _leftovers(entries: list[Entry]) -> Iterator[Removal]:
    for e in entries:
        family = layout.family(e.family)
        if e.path.name.startswith(".") and e.path.name.endswith((".tmp", ".evicted")):
            yield Removal(e.path, "left over by a run that was stopped")
        elif family.transient:
            yield Removal(e.path, "left over by a download")
        elif family.completes and e.directory and not e.used:
            yield Removal(e.path, "never completed")


def _revisions(e: Entry) -> bool:
    """A built bucket whose source keeps several revisions side by side (a path, a repository)."""
    return layout.kind_of(e.group) in ("path", "git")


def _stale_builds(scan: Scan) -> Iterator[Removal]:
    """Built buckets of superseded revisions (with their wheels) and wheels without metadata.json."""
    meta = [e for e in scan.entries if e.family == BUILT]
    newest: dict[str, Entry] = {}
    for e in meta:
        if _revisions(e) and (e.group not in newest or e.used > newest[e.group].used):
            newest[e.group] = e
    for e in meta:
        reason = _superseded(e, newest.get(e.group), scan)
        if reason:
            yield Removal(e.path, reason)
            yield Removal(_wheels_of(scan.cache, e.path), reason)
    have = {_bucket(scan.cache, BUILT, e.path) for e in meta}
    for e in scan.entries:
        if e.family == WHEELS and _bucket(scan.cache, WHEELS, e.path) not in have:
            yield Removal(e.path, "no metadata.json names these wheels")


def _superseded(e: Entry, newest: Entry | None, scan: Scan) -> str | None:
    if not _revisions(e):
        return None  # index sdists are immutable; a URL's rebuild replaces its bucket in place
    if e.gone:
        return f"{e.source} no longer exists"
    if newest is None or newest.path == e.path or _bucket(scan.cache, BUILT, e.path) in scan.live:
        return None
    return f"revision {e.path.name[:12]} of {e.source} was superseded by {newest.path.name[:12]}"


def _bucket(cache: Path, family: str, path: Path) -> str:
    return str(path.relative_to(cache / family))


def _wheels_of(cache: Path, metadata_bucket: Path) -> Path:
    """The built wheels beside a bucket's metadata.json (whatever its kind directory is called)."""
    return cache / WHEELS / _bucket(cache, BUILT, metadata_bucket)


def _old_url_downloads(entries: list[Entry]) -> Iterator[Removal]:
    for e in entries:
        if e.family == layout.URL_ARCHIVES.name and e.directory:
            for name in e.downloads:
                if name != e.current:
                    yield Removal(e.path / name, "an older download of this URL")


def _by_policy(scan: Scan, e: Entry, policy: Policy, now: float) -> str | None:
    if not removable(scan, e):
        return None
    family = layout.family(e.family)
    if policy.ci and not family.ci and not family.kept and e.group not in family.ci_groups:
        return "not kept in a CI cache (cheap to make again)"
    aged = family.aged or e.group in family.aged_groups
    if policy.days is not None and aged and now - e.used >= policy.days * DAY:
        return f"unused for {(now - e.used) / DAY:.0f} days"
    return None


def _http_past_use(e: Entry, now: float) -> str | None:
    """An HTTP response that is expired and has no validator: it can never be used again."""
    if e.family != layout.HTTP.name:
        return None
    if e.response is None:
        return "not a readable HTTP cache entry"
    if e.response.validator:
        return None
    expires = e.response.expires
    return "expired, with nothing to revalidate it by" if expires is None or expires <= now else None


def _orphan_checkouts(entries: list[Entry], chosen: dict[Path, str]) -> None:
    """A checkout is kept only while its commit's build is (it is remade from the bare repository)."""
    builds = {e.path.name for e in entries if e.family == BUILT and layout.kind_of(e.group) == "git"}
    kept = {name for name in builds if not any(p.name == name for p in chosen)}
    for e in entries:
        if e.family == layout.GIT.name and e.group == layout.GIT_CHECKOUTS and e.path.name not in kept:
            chosen.setdefault(e.path, "a checkout of a commit no build uses")


def _fit(scan: Scan, chosen: dict[Path, str], max_size: int) -> None:
    """Remove least recently used entries until the rest fits in `max_size` bytes."""
    entries = scan.entries
    total = sum(e.size for e in entries if not _inside_any(e.path, chosen))
    candidates = [  # built wheels go with their metadata.json; lock files stay
        e
        for e in entries
        if removable(scan, e)
        and e.family not in (WHEELS, layout.LOCKS.name)
        and not _inside_any(e.path, chosen)
    ]
    for e in sorted(candidates, key=lambda e: e.used):
        if total <= max_size:
            return
        reason = f"least recently used (the cache is above max-size={max_size} bytes)"
        chosen[e.path] = reason
        total -= e.size
        if e.family == BUILT:
            wheels = _wheels_of(scan.cache, e.path)
            chosen[wheels] = reason
            total -= sum(x.size for x in entries if x.path == wheels)


def removable(scan: Scan, e: Entry) -> bool:
    """Everything but doit's state, the interpreter facts and the cache's own lock files."""
    return not (layout.family(e.family).kept or e.path in scan.locks)


def _inside_any(path: Path, chosen: dict[Path, str]) -> bool:
    return path in chosen or any(parent in chosen for parent in path.parents)
