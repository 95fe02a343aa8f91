"""The one build pipeline of a source tree: lock, read the entry, fresh?, shared store, build, write, report.

`metadata_of_tree` and `wheel_of_tree` are the same skeleton (`_through_cache`) with a different
step: what a fresh entry gives, what the shared store gives, what a build makes and writes, and what
is shared afterwards (wheels only). The build environment is made apart (`CachedEnv`) and handed to
the `Builder`; the run's `Network` (for the build environment's backends) and its shared store
(behind `Store`, made by the run layer from the configuration) are handed down too.
"""

from __future__ import annotations

import functools
import hashlib
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from packaging.utils import canonicalize_name

from tasks.core import layout
from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import BuildError
from tasks.core.eventkinds import Building, Built, Reused
from tasks.core.events import emit
from tasks.core.http import Network
from tasks.envs.interpreter import Interpreter
from tasks.inputs.config import Indexes
from tasks.source import remote
from tasks.source.buildenv import CachedEnv
from tasks.source.builder import Builder
from tasks.source.builtcache import (
    BuiltEntry,
    is_fresh,
    metadata_json,
    read_entry,
    record_wheel,
    wheels_dir,
    with_prepared,
    write_entry,
)
from tasks.source.trees import Tree

T = TypeVar("T")


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


class Store(Protocol):
    """What the pipeline needs of the shared build cache (`tasks.source.remote.SharedCache`; one with
    no location when there is none)."""

    def pull(
        self, name: str, tree: Tree, interp: Interpreter, cache: Path, entry: BuiltEntry | None
    ) -> remote.Pulled | None: ...

    def push(self, name: str, tree: Tree, interp: Interpreter, wheel: Path, entry: BuiltEntry) -> None: ...


@dataclass(frozen=True)
class _Job:
    """One source tree to bring to the cache for one interpreter, and what that takes."""

    name: str
    tree: Tree
    interp: Interpreter
    indexes: Indexes
    cache: Path
    net: Network
    store: Store

    def builder(self) -> Builder:
        env = CachedEnv(self.interp, self.indexes, self.cache, self.net, package=self.name)
        return Builder(self.tree.path, env, self.cache, self.name, _settings(self.tree))


class _Step(Protocol[T]):
    """What differs between bringing metadata and bringing a wheel; `_through_cache` is the rest."""

    what: str  # the `building` event's filename

    def reuse(self, job: _Job, entry: BuiltEntry) -> tuple[T, Path] | None:
        """The result from a fresh entry, and the file to report; None when it must be made."""
        ...

    def pulled(self, pulled: remote.Pulled) -> T: ...

    def build(self, job: _Job, builder: Builder, entry: BuiltEntry | None) -> tuple[T, Path, BuiltEntry]:
        """Build, write the entry: the result, the file to report, the entry written."""
        ...

    def share(self, job: _Job, result: T, entry: BuiltEntry) -> None: ...


def _through_cache(job: _Job, step: _Step[T]) -> T:
    """Lock, read the entry, reuse it when fresh, else the shared store, else build, write, report."""
    with _locked(job.cache, job.tree):
        entry = read_entry(job.cache, job.tree.bucket)
        if is_fresh(entry, job.tree.revision, job.tree.info):
            assert entry is not None
            if (reused := step.reuse(job, entry)) is not None:
                _reused(job.name, job.tree, reused[1])
                return reused[0]
        if (pulled := job.store.pull(job.name, job.tree, job.interp, job.cache, entry)) is not None:
            return step.pulled(pulled)
        started = _building(job.name, job.tree, step.what)
        builder = job.builder()
        result, path, written = step.build(job, builder, entry)
        _built(job.name, job.tree, path, started, builder.last_log)
        step.share(job, result, written)
        return result


class _Metadata:
    what = "metadata.json"

    def reuse(self, job: _Job, entry: BuiltEntry) -> tuple[dict[str, Any], Path] | None:
        known = entry.any_metadata(job.interp)
        return None if known is None else (known, metadata_json(job.cache, job.tree.bucket))

    def pulled(self, pulled: remote.Pulled) -> dict[str, Any]:
        return pulled.metadata

    def build(
        self, job: _Job, builder: Builder, entry: BuiltEntry | None
    ) -> tuple[dict[str, Any], Path, BuiltEntry]:
        metadata = _check_name(job.name, builder.metadata(editable=job.tree.editable), job.tree)
        written = with_prepared(entry, job.tree.revision, job.tree.info, metadata)
        write_entry(job.cache, job.tree.bucket, written)
        return metadata, metadata_json(job.cache, job.tree.bucket), written

    def share(self, job: _Job, result: dict[str, Any], entry: BuiltEntry) -> None:
        """Metadata alone is not shared: the store holds wheels."""


class _Wheel:
    what = "wheel"

    def reuse(self, job: _Job, entry: BuiltEntry) -> tuple[Path, Path] | None:
        best = entry.compatible(job.interp)
        wheel = None if best is None else wheels_dir(job.cache, job.tree.bucket) / best
        return (wheel, wheel) if wheel is not None and _sound(job.name, wheel, job.cache) else None

    def pulled(self, pulled: remote.Pulled) -> Path:
        return pulled.wheel

    def build(self, job: _Job, builder: Builder, entry: BuiltEntry | None) -> tuple[Path, Path, BuiltEntry]:
        wheel = builder.wheel(wheels_dir(job.cache, job.tree.bucket), editable=job.tree.editable)
        metadata = _check_name(job.name, _wheel_metadata(wheel), job.tree)
        return wheel, wheel, record_wheel(job.cache, job.tree, entry, wheel.name, metadata)

    def share(self, job: _Job, result: Path, entry: BuiltEntry) -> None:
        job.store.push(job.name, job.tree, job.interp, result, entry)


def metadata_of_tree(
    name: str, tree: Tree, interp: Interpreter, indexes: Indexes, cache: Path, *, net: Network, store: Store
) -> dict[str, Any]:
    """Metadata for the tree's revision: from metadata.json when fresh, else prepared and stored."""
    return _through_cache(_Job(name, tree, interp, indexes, cache, net, store), _Metadata())


def wheel_of_tree(
    name: str, tree: Tree, interp: Interpreter, indexes: Indexes, cache: Path, *, net: Network, store: Store
) -> Path:
    """A built wheel for `interp`: reused when fresh, compatible and sound, else built (added or replaced)."""
    return _through_cache(_Job(name, tree, interp, indexes, cache, net, store), _Wheel())


def _settings(tree: Tree) -> dict[str, Any] | None:
    """The PEP 517 config_settings the tree is built with (kept in its metadata.json's `source`)."""
    return tree.info.get("config_settings") or None


def _building(name: str, tree: Tree, what: str) -> float:
    """A `building` event (a progress view shows the build running); returns when it began."""
    emit(Building(package=name, source=_described(tree), filename=what))
    return time.perf_counter()


def _described(tree: Tree) -> str:
    return str(tree.info.get("url") or tree.info.get("path") or tree.bucket)


def _built(name: str, tree: Tree, path: Path, started: float, log: Path | None) -> None:
    """A `built` event for the tree's metadata.json or wheel at `path` (and the build's log)."""
    seconds, where = time.perf_counter() - started, None if log is None else str(log)
    source = _described(tree)
    emit(Built(package=name, source=source, filename=path.name, path=str(path), seconds=seconds, log=where))


def _reused(name: str, tree: Tree, path: Path) -> None:
    """A `reused` event for the tree's metadata.json or wheel at `path`, taken from the cache."""
    emit(Reused(package=name, source=_described(tree), filename=path.name, path=str(path)))


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
