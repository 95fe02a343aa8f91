"""Cache care: what the cache holds (`./doit cache`) and removing what nothing can use (`./doit prune`).

An *entry* is the unit a family of buckets is made of (one unpacked wheel, one built-wheel bucket,
one build environment, one HTTP response, ...). What a prune removes, and why, is decided from a
scan of the cache (`plan_prune`, no writes), then removed under the cache's exclusive lock.

Stale, always removed:
* leftovers of killed runs: temp files and directories, interrupted downloads (`downloads-v0`,
  `sdists-v0`), entries without their completion marker;
* built wheels and metadata of superseded revisions: for a local path, every revision but the
  newest (and all of them once the path is gone); for a git repository, every commit but the
  newest built and those a task in doit's state last used (another environment's branch); a
  `built-wheels-v0` bucket without its `metadata.json`; git checkouts of commits whose build is gone;
* older downloads of a direct URL (not the content its `state.json` names);
* HTTP responses past their use: expired and without a validator (ETag, Last-Modified), so they
  can never be served or revalidated again.
`days=N`: also unpacked wheels, unpacked sdists, build environments, git checkouts, remote wheel
metadata, HTTP responses, URL downloads and logs unused for N days (an entry's last use is its
marker's mtime, stamped on reuse). `ci=1`: keep only built wheels, their metadata, git databases,
doit's state and the interpreter facts. `max-size=SIZE`: then remove least recently used entries
until the cache fits. Never removed: doit's state, the interpreter facts, the cache lock files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.core.cachelock import exclusive_cache, lock_files
from tasks.core.errors import ConfigError
from tasks.core.events import Event, emit, human_bytes
from tasks.core.lastuse import last_used

BUILT = ("built-wheel-metadata-v0", "built-wheels-v0")
FAMILIES = {  # shown in this order; anything else found in the cache is listed after them
    "archive-v0": "unpacked wheels (installs link from here)",
    "built-wheels-v0": "wheels built from source",
    "built-wheel-metadata-v0": "metadata.json of each built source",
    "wheel-metadata-v0": "metadata of remote wheels (locking)",
    "git-v0": "bare repositories, checkouts and their locks",
    "build-envs-v0": "isolated build environments",
    "sources-v0": "unpacked source archives",
    "sdists-v0": "sdists being downloaded",
    "url-archives-v0": "direct URL archives and their validators",
    "downloads-v0": "wheels being downloaded",
    "http-v0": "HTTP-cached index pages",
    "interpreters-v0": "interpreter facts (tags, paths)",
    "locks-v0": "lock files",
    "build-logs-v0": "build backends' output, the last build of each",
    "chosen-v0": "which file each index pin resolved to",
    "logs": "internal error logs",
    "doit-state.sqlite3": "doit's task state (before state-v0)",
    "state-v0": "doit's task state, one per project",
}
AGED = {
    "archive-v0",
    "sources-v0",
    "build-envs-v0",
    "wheel-metadata-v0",
    "http-v0",
    "url-archives-v0",
    "build-logs-v0",
    "logs",
}
KEPT = {
    "interpreters-v0",
    "doit-state.sqlite3",
    "state-v0",
}  # never removed (nor doit-state.sqlite3-journal, -wal)
KEPT_IN_CI = {*BUILT, "git-v0/db", "chosen-v0", *KEPT}  # chosen-v0: tiny; it names the sdists to build
DAY = 86400.0


@dataclass(frozen=True)
class Entry:
    """One unit of a bucket family: `path` (file or directory), its bytes, its last use."""

    family: str
    path: Path
    size: int
    used: float
    group: str = ""  # built buckets: "<kind>/<digest>" (a path or repository); git: "db" or "checkouts"


@dataclass(frozen=True)
class Policy:
    days: float | None = None
    ci: bool = False
    max_size: int | None = None


@dataclass(frozen=True)
class Removal:
    path: Path
    reason: str


# --- scanning ---------------------------------------------------------------------------------


def scan(cache: Path) -> list[Entry]:
    """Every entry of every family (each file's bytes counted once, however many links it has)."""
    seen: set[tuple[int, int]] = set()
    entries = []
    for family, path, marker, group in _units(cache):
        entries.append(Entry(family, path, _size(path, seen), last_used(marker), group))
    return entries


def _units(cache: Path) -> Iterator[tuple[str, Path, Path, str]]:
    """(family, entry path, marker whose mtime is its last use, group) for everything in the cache."""
    if not cache.is_dir():
        return
    names = sorted(p.name for p in cache.iterdir())
    for name in [*(f for f in FAMILIES if f in names), *(n for n in names if n not in FAMILIES)]:
        top = cache / name
        if name in BUILT:
            yield from ((name, b, b / "metadata.json", g) for b, g in _built_buckets(top))
        elif name == "git-v0":
            yield from _git_units(top)
        elif name in ("wheel-metadata-v0", "http-v0", "build-logs-v0", "logs") and top.is_dir():
            files = (f for f in sorted(top.rglob("*")) if f.is_file() and f.suffix != ".lock")
            yield from ((name, f, f, "") for f in files)  # an HTTP entry's .lock goes with it
        elif top.is_dir():
            children = (c for c in sorted(top.iterdir()) if name == "locks-v0" or c.suffix != ".lock")
            yield from ((name, child, _marker(name, child), "") for child in children)
        else:
            yield name, top, top, ""


def _built_buckets(top: Path) -> Iterator[tuple[Path, str]]:
    """`pypi/<sdist>` and `<kind>/<digest>/<name or revision>`, with their group `<kind>/<digest>`."""
    for kind in _dirs(top):
        if kind.name == "pypi":
            yield from ((b, "pypi") for b in _dirs(kind))
            continue
        for group in _dirs(kind):
            yield from ((b, f"{kind.name}/{group.name}") for b in _dirs(group))


def _git_units(top: Path) -> Iterator[tuple[str, Path, Path, str]]:
    for repo in _dirs(top / "db"):
        yield "git-v0", repo, repo / "FETCH_HEAD", "db"
    for repo in _dirs(top / "checkouts"):
        yield from (("git-v0", c, c / ".git-commit", "checkouts") for c in _dirs(repo))
    if (top / "locks").is_dir():
        yield from (("git-v0", f, f, "locks") for f in sorted((top / "locks").iterdir()))


def _marker(family: str, entry: Path) -> Path:
    from tasks.wheels.unpacked import MARKER

    markers = {"archive-v0": MARKER, "build-envs-v0": ".complete", "sources-v0": ".complete"}
    if family == "url-archives-v0":
        return entry / "state.json"
    return entry / markers[family] if family in markers and entry.is_dir() else entry


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


# --- deciding ---------------------------------------------------------------------------------


def plan_prune(cache: Path, entries: list[Entry], policy: Policy, now: float) -> list[Removal]:
    """What a prune removes and why (a pure decision over the scan and the entries' own files)."""
    chosen: dict[Path, str] = {}
    for removal in [*_leftovers(entries), *_stale_builds(cache, entries), *_old_url_downloads(entries)]:
        chosen.setdefault(removal.path, removal.reason)
    for entry in entries:
        reason = _by_policy(cache, entry, policy, now) or _http_past_use(entry, now)
        if reason:
            chosen.setdefault(entry.path, reason)
    _orphan_checkouts(entries, chosen)
    if policy.max_size is not None:
        _fit(cache, entries, chosen, policy.max_size)
    return [Removal(path, reason) for path, reason in chosen.items()]


def _leftovers(entries: list[Entry]) -> Iterator[Removal]:
    for e in entries:
        if e.path.name.startswith(".") and e.path.name.endswith((".tmp", ".evicted")):
            yield Removal(e.path, "left over by a run that was stopped")
        elif e.family in ("downloads-v0", "sdists-v0"):
            yield Removal(e.path, "left over by a download")
        elif e.family in ("archive-v0", "build-envs-v0", "sources-v0") and e.path.is_dir() and not e.used:
            yield Removal(e.path, "never completed")


def _stale_builds(cache: Path, entries: list[Entry]) -> Iterator[Removal]:
    """Built buckets of superseded revisions (with their wheels) and wheels without metadata.json."""
    meta = [e for e in entries if e.family == BUILT[0]]
    live = live_buckets(cache)
    newest: dict[str, Entry] = {}
    for e in meta:
        if e.group.startswith(("path/", "git/")) and (e.group not in newest or e.used > newest[e.group].used):
            newest[e.group] = e
    for e in meta:
        reason = _superseded(e, newest.get(e.group), live, cache)
        if reason:
            bucket = e.path.relative_to(cache / BUILT[0])
            yield Removal(e.path, reason)
            yield Removal(cache / BUILT[1] / bucket, reason)
    for e in entries:
        if e.family == BUILT[1] and not (cache / BUILT[0] / e.path.relative_to(cache / BUILT[1])).is_dir():
            yield Removal(e.path, "no metadata.json names these wheels")


def _superseded(e: Entry, newest: Entry | None, live: set[str], cache: Path) -> str | None:
    if not e.group.startswith(("path/", "git/")):
        return None  # index sdists are immutable; a URL's rebuild replaces its bucket in place
    source = _source_of(e.path / "metadata.json")
    where = source.get("path") or source.get("url") or e.group
    if e.group.startswith("path/") and source.get("path") and not Path(source["path"]).exists():
        return f"{where} no longer exists"
    bucket = str(e.path.relative_to(cache / BUILT[0]))
    if newest is None or newest.path == e.path or bucket in live:
        return None
    return f"revision {e.path.name[:12]} of {where} was superseded by {newest.path.name[:12]}"


def _source_of(metadata: Path) -> dict[str, str]:
    try:
        source = json.loads(metadata.read_text(encoding="utf-8")).get("source", {})
        return {k: v for k, v in source.items() if isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        return {}


def live_buckets(cache: Path) -> set[str]:
    """Built buckets a task in doit's state last used (each environment's current revision)."""
    import sqlite3

    rows = []
    for state in [cache / "doit-state.sqlite3", *cache.glob("state-v0/*/doit-state.sqlite3")]:
        if not state.is_file():
            continue
        try:
            with sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True) as db:
                rows += db.execute("SELECT task_id, task_data FROM doit").fetchall()
        except sqlite3.Error:
            continue
    buckets = set()
    for name, data in rows:
        if str(name).startswith("fetch:"):
            try:
                bucket = json.loads(data).get("_values_:", {}).get("bucket")
            except (ValueError, AttributeError):
                continue
            if isinstance(bucket, str):
                buckets.add(bucket)
    return buckets


def _old_url_downloads(entries: list[Entry]) -> Iterator[Removal]:
    for e in entries:
        if e.family != "url-archives-v0" or not e.path.is_dir():
            continue
        try:
            current = json.loads((e.path / "state.json").read_text()).get("sha256")
        except (OSError, ValueError, AttributeError):
            current = None
        for child in _dirs(e.path):
            if len(child.name) == 64 and child.name != current:
                yield Removal(child, "an older download of this URL")


def _by_policy(cache: Path, e: Entry, policy: Policy, now: float) -> str | None:
    if not removable(cache, e):
        return None
    if policy.ci and e.family not in KEPT_IN_CI and f"{e.family}/{e.group}" not in KEPT_IN_CI:
        return "not kept in a CI cache (cheap to make again)"
    aged = e.family in AGED or (e.family == "git-v0" and e.group == "checkouts")
    if policy.days is not None and aged and now - e.used >= policy.days * DAY:
        return f"unused for {(now - e.used) / DAY:.0f} days"
    return None


def _http_past_use(e: Entry, now: float) -> str | None:
    """An HTTP response that is expired and has no validator: it can never be used again."""
    if e.family != "http-v0":
        return None
    headers = _cached_headers(e.path)
    if headers is None:
        return "not a readable HTTP cache entry"
    if "etag" in headers or "last-modified" in headers:
        return None
    expires = _expiry(headers)
    return "expired, with nothing to revalidate it by" if expires is None or expires <= now else None


def _cached_headers(path: Path) -> dict[str, str] | None:
    """The response headers of a CacheControl file-cache entry (`cc=4,` + msgpack), lower-cased."""
    import msgpack  # type: ignore[import-untyped]  # CacheControl's serializer: only when a prune reads it

    try:
        data = path.read_bytes()
        if not data.startswith(b"cc=4,"):
            return None
        cached = msgpack.loads(data[5:], raw=False)
        headers = cached["response"]["headers"]
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except (OSError, ValueError, KeyError, TypeError, msgpack.UnpackException):
        return None


def _expiry(headers: dict[str, str]) -> float | None:
    from email.utils import parsedate_to_datetime

    try:
        date = parsedate_to_datetime(headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return date + int(value)
    try:
        return parsedate_to_datetime(headers["expires"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def _orphan_checkouts(entries: list[Entry], chosen: dict[Path, str]) -> None:
    """A checkout is kept only while its commit's build is (it is remade from the bare repository)."""
    builds = {e.path.name for e in entries if e.family == BUILT[0] and e.group.startswith("git/")}
    kept = {name for name in builds if not any(p.name == name for p in chosen)}
    for e in entries:
        if e.family == "git-v0" and e.group == "checkouts" and e.path.name not in kept:
            chosen.setdefault(e.path, "a checkout of a commit no build uses")


def _fit(cache: Path, entries: list[Entry], chosen: dict[Path, str], max_size: int) -> None:
    """Remove least recently used entries until the rest fits in `max_size` bytes."""
    total = sum(e.size for e in entries if not _inside_any(e.path, chosen))
    candidates = [  # built wheels go with their metadata.json; lock files stay
        e
        for e in entries
        if removable(cache, e) and e.family not in (BUILT[1], "locks-v0") and not _inside_any(e.path, chosen)
    ]
    for e in sorted(candidates, key=lambda e: e.used):
        if total <= max_size:
            return
        reason = f"least recently used (the cache is above max-size={max_size} bytes)"
        chosen[e.path] = reason
        total -= e.size
        if e.family == BUILT[0]:
            wheels = cache / BUILT[1] / e.path.relative_to(cache / BUILT[0])
            chosen[wheels] = reason
            total -= sum(x.size for x in entries if x.path == wheels)


def removable(cache: Path, e: Entry) -> bool:
    """Everything but doit's state, the interpreter facts and the cache's own lock files."""
    return not (e.family in KEPT or e.family.startswith("doit-state.") or e.path in lock_files(cache))


def _inside_any(path: Path, chosen: dict[Path, str]) -> bool:
    return path in chosen or any(parent in chosen for parent in path.parents)


# --- doing ------------------------------------------------------------------------------------


def report(cache: Path) -> None:
    """`./doit cache`: one `cache_usage` event per family (bytes, entries), then the total."""
    entries = scan(cache)
    families: dict[str, list[Entry]] = {}
    for e in entries:
        families.setdefault(e.family, []).append(e)
    emit(Event("cache_usage", path=str(cache), bytes=sum(e.size for e in entries), count=len(entries)))
    for family, members in families.items():
        what = FAMILIES.get(family, "")
        size = sum(e.size for e in members)
        emit(Event("cache_usage", path=family, bytes=size, count=len(members), message=what))


def prune(cache: Path, policy: Policy) -> None:
    """`./doit prune`: under the cache's exclusive lock, remove what `plan_prune` chose, and say so."""
    with exclusive_cache(cache):
        entries = scan(cache)
        before = sum(e.size for e in entries)
        freed, removed = 0, 0
        for removal in plan_prune(cache, entries, policy, time.time()):
            if not removal.path.exists() and not removal.path.is_symlink():
                continue  # inside an entry removed just before
            size = freeable(removal.path)
            _remove(removal.path)
            _drop_empty_parents(removal.path, cache)
            freed, removed = freed + size, removed + 1
            where = str(removal.path.relative_to(cache))
            emit(Event("pruned", path=where, bytes=size, message=removal.reason))
        for family in cache.iterdir():  # a family left empty (downloads-v0 between runs) goes too
            if family.is_dir() and not any(family.iterdir()):
                family.rmdir()
        after = sum(e.size for e in scan(cache))
    sizes = f"{human_bytes(before)} before, {human_bytes(after)} after"
    emit(Event("prune_done", path=str(cache), count=removed, bytes=freed, message=sizes))


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


# --- the command line -------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20}
_UNITS |= {"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


def policy_from_variables() -> Policy:
    """`days=N`, `ci=1` and `max-size=SIZE` from the command line (one `error:` line when wrong)."""
    from tasks.inputs.variables import value

    days, ci, size = value("days"), value("ci"), value("max-size")
    return Policy(
        days=_number(days, "days", "a number of days, such as days=30") if days else None,
        ci=_flag(ci),
        max_size=parse_size(size) if size else None,
    )


def _number(text: str, name: str, example: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(f"{name}={text}: give {example}")
    return value


def _flag(text: str | None) -> bool:
    if text in (None, "", "0", "no", "false"):
        return False
    if text in ("1", "yes", "true"):
        return True
    raise ConfigError(f"ci={text}: give ci=1 or ci=0")


def parse_size(text: str) -> int:
    """`500M`, `2G`, `1.5GiB`, `1048576` (binary units) in bytes."""
    number = text.strip()
    digits = number.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    unit = number[len(digits) :].strip().lower()
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if value < 0 or unit not in _UNITS:
        raise ConfigError(f"max-size={text}: give a size such as max-size=500M or max-size=2G")
    return int(value * _UNITS[unit])
