"""Builds from source, tied to remote freshness: a tree per source, then its metadata and wheel.

`source_tree` finds (and, when upstream changed, fetches) the tree at its revision;
`metadata_of_tree` and `wheel_of_tree` read the source's metadata.json under a per-source file
lock and then reuse it (fresh, with a compatible and sound wheel), take the entry from the shared
store (`remote.take`), or build: a new wheel is added to a fresh entry and replaces a stale one's
(`remote.give` then shares it). Also: the built wheel unpacked for installing (`fetched_wheel`),
the resolver's `MetadataProvider`, and a tree to and from doit's values.
"""

from __future__ import annotations

import functools
import hashlib
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core import layout
from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import BuildError
from tasks.core.events import Event, Kind, emit
from tasks.index.pages import DistFile
from tasks.inputs.config import Indexes
from tasks.inputs.sources import Source
from tasks.source import remote
from tasks.source.builder import Builder
from tasks.source.builtcache import (
    drop_other_revisions,
    drop_stale_wheels,
    is_fresh,
    metadata_json,
    read_entry,
    wheels_dir,
    with_prepared,
    with_wheel,
    write_entry,
)
from tasks.source.kinds import build_source
from tasks.source.trees import Tree
from tasks.target.interpreter import Interpreter
from tasks.wheels.fetch import Fetched


def source_tree(
    name: str,
    source: Source,
    cache: Path,
    *,
    dist_file: DistFile | None = None,
    hashes: frozenset[str] = frozenset(),
    revision: str | None = None,
) -> Tree:
    """The tree to build at `revision` (checked upstream now when the run has not checked it yet)."""
    kind = build_source(name, source, cache, hashes=hashes, dist_file=dist_file)
    return kind.tree(revision or kind.revision())


def _locked(cache: Path, tree: Tree) -> AbstractContextManager[Any]:
    """One build per source at a time, across processes."""
    from filelock import FileLock

    path = cache / layout.LOCKS.name / f"{hashlib.sha256(tree.bucket.encode()).hexdigest()[:32]}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path))


def _check_name(name: str, metadata: dict[str, Any], tree: Tree) -> dict[str, Any]:
    found = str(metadata.get("name", ""))
    if canonicalize_name(found) != canonicalize_name(name):
        raise BuildError(
            f"the built metadata names {found!r}, not {name!r}",
            package=name,
            source=str(tree.info.get("url") or tree.info.get("path") or ""),
        )
    return metadata


def metadata_of_tree(
    name: str, tree: Tree, interp: Interpreter, indexes: Indexes, cache: Path
) -> dict[str, Any]:
    """Metadata for the tree's revision: from metadata.json when fresh, else prepared and stored."""
    with _locked(cache, tree):
        entry = read_entry(cache, tree.bucket)
        if is_fresh(entry, tree.revision, tree.info):
            assert entry is not None
            known = entry.any_metadata(interp)
            if known is not None:
                _report("reused", name, tree, metadata_json(cache, tree.bucket))
                return known
        if (taken := remote.take(name, tree, interp, cache, entry)) is not None:
            return taken.metadata
        started = _building(name, tree, "metadata.json")
        builder = Builder(tree.path, interp, indexes, cache, name, _settings(tree))
        built = builder.metadata(editable=tree.editable)
        metadata = _check_name(name, built, tree)
        write_entry(cache, tree.bucket, with_prepared(entry, tree.revision, tree.info, metadata))
        _report("built", name, tree, metadata_json(cache, tree.bucket), started, builder.last_log)
        return metadata


def wheel_of_tree(name: str, tree: Tree, interp: Interpreter, indexes: Indexes, cache: Path) -> Path:
    """A built wheel for `interp`: reused when fresh, compatible and sound, else built (added or replaced)."""
    with _locked(cache, tree):
        entry = read_entry(cache, tree.bucket)
        if is_fresh(entry, tree.revision, tree.info):
            assert entry is not None
            best = entry.compatible(interp)
            if best is not None and _sound(name, wheels_dir(cache, tree.bucket) / best, cache):
                _report("reused", name, tree, wheels_dir(cache, tree.bucket) / best)
                return wheels_dir(cache, tree.bucket) / best
        if (taken := remote.take(name, tree, interp, cache, entry)) is not None:
            return taken.wheel
        started = _building(name, tree, "wheel")
        builder = Builder(tree.path, interp, indexes, cache, name, _settings(tree))
        wheel = builder.wheel(wheels_dir(cache, tree.bucket), editable=tree.editable)
        metadata = _check_name(name, _wheel_metadata(wheel), tree)
        updated = with_wheel(entry, tree.revision, tree.info, wheel.name, metadata)
        write_entry(cache, tree.bucket, updated)
        drop_stale_wheels(cache, tree.bucket, keep=set(updated.data))
        if layout.Bucket.parse(tree.bucket).one_revision:
            drop_other_revisions(cache, tree.bucket)
        _report("built", name, tree, wheel, started, builder.last_log)
        remote.give(name, tree, interp, wheel, updated)
        return wheel


def _settings(tree: Tree) -> dict[str, Any] | None:
    """The PEP 517 config_settings the tree is built with (kept in its metadata.json's `source`)."""
    return tree.info.get("config_settings") or None


def _building(name: str, tree: Tree, what: str) -> float:
    """A `building` event (a progress view shows the build running); returns when it began."""
    emit(Event("building", package=name, source=_described(tree), filename=what))
    return time.perf_counter()


def _described(tree: Tree) -> str:
    return str(tree.info.get("url") or tree.info.get("path") or tree.bucket)


def _report(
    kind: Kind, name: str, tree: Tree, path: Path, started: float | None = None, log: Path | None = None
) -> None:
    """A `built` or `reused` event for the tree's metadata.json or wheel at `path` (and the build's log)."""
    seconds = None if started is None else time.perf_counter() - started
    where = None if log is None else str(log)
    described = _described(tree)
    emit(
        Event(
            kind,
            package=name,
            source=described,
            filename=path.name,
            path=str(path),
            seconds=seconds,
            log=where,
        )
    )


def _sound(name: str, wheel: Path, cache: Path) -> bool:
    """A cached built wheel that reads and matches its RECORD (unpacked now if it was not yet).

    One that does not (truncated, damaged) is removed with a warning, so the caller builds it again.
    """
    from tasks.core.errors import InvalidWheel
    from tasks.core.events import warn
    from tasks.wheels.unpacked import unpack_wheel, unpacked_path

    if not wheel.is_file():
        return False
    try:
        unpack_wheel(wheel, unpacked_path(cache, wheel_sha256(wheel)), package=name, filename=wheel.name)
    except InvalidWheel as exc:
        wheel.unlink(missing_ok=True)
        warn(f"removed damaged cache entry {wheel}: {exc.cause}; building it again")
        return False
    return True


def _wheel_metadata(wheel: Path) -> dict[str, Any]:
    from tasks.index.wheelmeta import metadata_text

    return parse_core_metadata(metadata_text(wheel, wheel.name))


def wheel_sha256(wheel: Path) -> str:
    """A built wheel's sha256, read once per run while the file is unchanged (reuse checks it, then
    `fetched_wheel` names its unpacked entry by it)."""
    stat = wheel.stat()
    return _sha256(str(wheel), stat.st_ino, stat.st_size, stat.st_mtime_ns)  # a replaced file is new


@functools.lru_cache(maxsize=4096)
def _sha256(path: str, inode: int, size: int, mtime_ns: int) -> str:
    from tasks.core.download import sha256_file

    return sha256_file(Path(path))


def fetched_wheel(name: str, tree: Tree, wheel: Path, cache: Path) -> Fetched:
    """The built wheel unpacked for installing, with its PEP 610 record."""
    from tasks.wheels.unpacked import unpack_wheel, unpacked_path

    sha = wheel_sha256(wheel)
    unpacked = unpack_wheel(wheel, unpacked_path(cache, sha), package=name, filename=wheel.name)
    version = wheel.name.split("-")[1]
    return Fetched(name, version, wheel.name, sha, str(unpacked), tree.direct_url, tree.revision)


class MetadataProvider:
    """The resolver's SourceMetadata for sources that need a build, using `indexes` for backends.

    It remembers the revision of each tree whose metadata it gave (a git commit, an archive's
    digest), so a lock names the very commit it resolved against, not one asked for again later.
    """

    def __init__(self, indexes: Indexes):
        self.indexes = indexes
        self.revisions: dict[NormalizedName, str] = {}

    def __call__(
        self,
        name: NormalizedName,
        source: Source,
        interp: Interpreter,
        cache: Path,
        dist_file: DistFile | None,
    ) -> dict[str, Any]:
        tree = source_tree(name, source, cache, dist_file=dist_file)
        self.revisions[name] = tree.revision
        return metadata_of_tree(name, tree, interp, self.indexes, cache)


def revision_cached(name: str, source: Source, cache: Path, revision: str) -> bool:
    """Whether the tree of `revision` is in the cache (a build can go on without the remote)."""
    return build_source(name, source, cache).cached(revision)
