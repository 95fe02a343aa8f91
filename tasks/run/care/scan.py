"""Scanning the cache into entries: each family's units, their bytes (hard links counted once), their
last use, and (for a prune) the facts the rules need, read here so the rules never touch the disk."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tasks.core import layout
from tasks.core.httpcache import StoredResponse
from tasks.core.lastuse import last_used


@dataclass(frozen=True)
class Entry:
    """One unit of a family: `path` (file or directory), its bytes, its last use, and what it holds.

    `group`: built buckets, `<kind>/<digest>` (a path or repository) or `pypi`; git, `db`,
    `checkouts` or `locks`. Read for a prune only: `source` and `gone` (a built bucket's
    metadata.json: where it was built from, and whether that local path is gone), `current` and
    `downloads` (a URL's content sha256 now, and the downloads beside it), `response` (an HTTP entry;
    None when unreadable).
    """

    family: str
    path: Path
    size: int
    used: float
    group: str = ""
    directory: bool = False
    source: str = ""
    gone: bool = False
    current: str | None = None
    downloads: tuple[str, ...] = ()
    response: StoredResponse | None = None


@dataclass(frozen=True)
class Scan:
    """The cache's entries; for a prune also the buckets doit's state last used and the cache's locks."""

    cache: Path
    entries: list[Entry]
    live: set[str] = field(default_factory=set)
    locks: frozenset[Path] = frozenset()


def scan(cache: Path, *, facts: bool = False) -> Scan:
    """Every entry of every family (each file's bytes counted once, however many links it has).

    `facts`: also read what the prune rules need (metadata.json sources, URL states, HTTP headers,
    doit's state).
    """
    from tasks.core.rwlock import lock_files

    seen: set[tuple[int, int]] = set()
    entries = []
    for family, path, marker, group in _units(cache):
        entry = Entry(family, path, _size(path, seen), last_used(marker), group, path.is_dir())
        entries.append(_with_facts(entry) if facts else entry)
    if not facts:
        return Scan(cache, entries)
    from tasks.run.doitstate import fetched_buckets

    return Scan(cache, entries, fetched_buckets(cache), lock_files(cache))


def _units(cache: Path) -> Iterator[tuple[str, Path, Path, str]]:
    """(family, entry path, marker whose mtime is its last use, group) for everything in the cache."""
    if not cache.is_dir():
        return
    names = sorted(p.name for p in cache.iterdir())
    known = [f.name for f in layout.FAMILIES]
    for name in [*(f for f in known if f in names), *(n for n in names if n not in known)]:
        top, family = cache / name, layout.family(name)
        if family.shape == "buckets":
            yield from ((name, b, b / layout.METADATA_JSON, g) for b, g in _built_buckets(top))
        elif family.shape == "git":
            yield from _git_units(top)
        elif family.shape == "files" and top.is_dir():
            files = (f for f in sorted(top.rglob("*")) if f.is_file() and f.suffix != ".lock")
            yield from ((name, f, f, "") for f in files)  # an HTTP entry's .lock goes with it
        elif top.is_dir():
            children = (c for c in sorted(top.iterdir()) if family.lock_entries or c.suffix != ".lock")
            yield from ((name, child, _marker(family, child), "") for child in children)
        else:
            yield name, top, top, ""


def _built_buckets(top: Path) -> Iterator[tuple[Path, str]]:
    """`pypi/<sdist>` and `<kind>/<digest>/<leaf>`, with their group (`pypi` or `<kind>/<digest>`)."""
    for kind in _dirs(top):
        if kind.name == "pypi":  # the default index: no digest level
            yield from ((b, kind.name) for b in _dirs(kind))
            continue
        for group in _dirs(kind):
            yield from ((b, f"{kind.name}/{group.name}") for b in _dirs(group))


def _git_units(top: Path) -> Iterator[tuple[str, Path, Path, str]]:
    name = layout.GIT.name
    for repo in _dirs(top / layout.GIT_DB):
        yield name, repo, repo / "FETCH_HEAD", layout.GIT_DB
    for repo in _dirs(top / layout.GIT_CHECKOUTS):
        yield from ((name, c, c / layout.GIT_COMMIT, layout.GIT_CHECKOUTS) for c in _dirs(repo))
    if (top / layout.GIT_LOCKS).is_dir():
        yield from ((name, f, f, layout.GIT_LOCKS) for f in sorted((top / layout.GIT_LOCKS).iterdir()))


def _marker(family: layout.Family, entry: Path) -> Path:
    return entry / family.marker if family.marker and entry.is_dir() else entry


def _with_facts(e: Entry) -> Entry:
    """The entry with what the rules read from its files (a built bucket's source, a URL's state...)."""
    from dataclasses import replace

    if e.family == layout.BUILT_METADATA.name:
        source = _source_of(e.path / layout.METADATA_JSON)
        gone = layout.kind_of(e.group) == "path" and bool(source.get("path"))
        where = source.get("path") or source.get("url") or e.group
        return replace(e, source=where, gone=gone and not Path(source["path"]).exists())
    if e.family == layout.URL_ARCHIVES.name and e.directory:
        downloads = tuple(c.name for c in _dirs(e.path) if len(c.name) == 64)
        return replace(e, current=_url_current(e.path), downloads=downloads)
    if e.family == layout.HTTP.name:
        from tasks.core.httpcache import stored_response

        return replace(e, response=stored_response(e.path))
    return e


def _source_of(metadata: Path) -> dict[str, str]:
    try:
        source = json.loads(metadata.read_text(encoding="utf-8")).get("source", {})
        return {k: v for k, v in source.items() if isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        return {}


def _url_current(entry: Path) -> str | None:
    try:
        current = json.loads((entry / layout.URL_STATE).read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return current if isinstance(current, str) else None


def _dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def _files(path: Path) -> Iterator[os.stat_result]:
    if path.is_symlink() or path.is_file():
        yield path.lstat()
        return
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                yield os.lstat(os.path.join(directory, name))
            except OSError:
                continue


def _size(path: Path, seen: set[tuple[int, int]]) -> int:
    total = 0
    for st in _files(path):
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def freeable(path: Path) -> int:
    """Bytes that removing `path` gives back: files no environment or other entry links to."""
    return sum(st.st_size for st in _files(path) if st.st_nlink <= 1)
