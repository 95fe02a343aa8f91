"""What the resolver may choose from: versions of a project on the indexes, and their metadata.

The `Finder` memoizes pages, releases and metadata for one resolution and reads ahead of the
resolver in the background; what a page lists and which files fit is `tasks.lock.releases`.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tasks.core.errors import MetadataMismatch, ResolutionError, WheelwrightError
from tasks.core.urls import strip_credentials
from tasks.envs.interpreter import Interpreter
from tasks.index.choice import python_ok
from tasks.index.pages import DistFile, PageGetter
from tasks.inputs.config import Indexes
from tasks.inputs.sources import RegistrySource, Source
from tasks.lock.deps import dependencies_of
from tasks.lock.releases import Project, Release, project, usable_release

WALK_AHEAD = 8  # older releases whose metadata is read ahead of a resolver walking back through history


class SourceMetadata(Protocol):
    """Core metadata of a source that needs a build (index sdist, URL, git, path)."""

    def __call__(
        self,
        name: NormalizedName,
        source: Source,
        interp: Interpreter,
        cache: Path,
        dist_file: DistFile | None,
    ) -> dict[str, Any]: ...


class Finder:
    """Project files and metadata, memoized for one resolution (safe to share across threads).

    Each index page, once fetched, is looked ahead of the resolver in the background: the
    metadata of its likeliest release (the lock's pin, else the newest final with a wheel) is
    read and the pages of that release's dependencies are fetched in turn. The resolver then
    mostly finds what it asks for ready, instead of waiting one round trip per tree level.
    """

    def __init__(
        self,
        *,
        indexes: Indexes,
        interp: Interpreter,
        cache: Path,
        get: PageGetter,
        wheel_metadata: Callable[[DistFile], dict[str, Any]],
        source_metadata: SourceMetadata | None,
        allow_sdists: bool = True,
        refresh: bool | frozenset[NormalizedName] = False,
        preferences: Mapping[NormalizedName, Version] | None = None,
    ):
        self.indexes, self.interp, self.cache, self.get = indexes, interp, cache, get
        self.refresh, self.preferences = refresh, dict(preferences or {})
        self._wheel_metadata, self._source_metadata = wheel_metadata, source_metadata
        self.allow_sdists = allow_sdists
        self.exclude_newer: datetime | None = None  # files uploaded later are left out
        self._warned: set[str] = set()  # indexes already warned about for files without upload-time
        self._pages: dict[NormalizedName, Future[Project]] = {}
        self._memo: dict[tuple[str, ...], Future[Any]] = {}
        self._ahead: dict[NormalizedName, set[frozenset[str]]] = {}  # extras looked ahead for
        self._read: dict[NormalizedName, Version] = {}  # the newest version whose metadata was asked for
        self._walked: set[tuple[NormalizedName, Version]] = set()  # older releases read in the background
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=16)

    def prefetch(self, wanted: Iterable[tuple[NormalizedName, frozenset[str]]]) -> None:
        """Start fetching the pages of these projects (with these extras) in the background."""
        for name, extras in wanted:
            page = self._page(name)
            with self._lock:
                new = extras not in self._ahead.setdefault(name, set())
                self._ahead[name].add(extras)
            if new:
                page.add_done_callback(functools.partial(self._after_page, name, extras))

    def _page(self, name: NormalizedName) -> Future[Project]:
        with self._lock:
            if name not in self._pages:
                get = self._getter(name)
                self._pages[name] = self._pool.submit(project, get, self.indexes, name, self.cache)
            return self._pages[name]

    def _after_page(self, name: NormalizedName, extras: frozenset[str], _: object) -> None:
        with contextlib.suppress(RuntimeError):  # closed: the resolution is over
            self._pool.submit(self._look_ahead, name, extras)

    def _look_ahead(self, name: NormalizedName, extras: frozenset[str]) -> None:
        """Read the likeliest release's metadata and prefetch its dependencies.

        A likeliest release with only an sdist is built for its metadata here, when builds are
        allowed: the resolver would otherwise reach it last and wait for the whole build at the
        end of the resolution (3.5 s of a cold 191-pin lock's 7.5 s).
        """
        try:
            release = self._likeliest(name)
            if release is None:
                return
            metadata = self.release_metadata(name, release)
        except WheelwrightError:
            return  # the resolver meets the same error if it needs this release
        deps = dependencies_of(metadata, extras, self.interp.markers)
        self.prefetch((dep.name, dep.extras) for dep in deps)

    def _likeliest(self, name: NormalizedName) -> Release | None:
        preferred = self.preferences.get(name)
        versions = self.versions(name)
        ordered = ([preferred] if preferred in versions else []) + versions
        for version in ordered:
            release = self.release(name, version)
            if release is not None and not release.yanked and not version.is_prerelease:
                return release if self._readable(release) else None
        return None

    def _readable(self, release: Release) -> bool:
        """Its metadata comes from a wheel, or from its sdist when this resolution may build."""
        if release.metadata_wheel(self.interp) is not None:
            return True
        return self._source_metadata is not None and release.sdist() is not None

    def _getter(self, name: NormalizedName) -> PageGetter:
        """Pages of names being upgraded are revalidated even within their max-age."""
        fresh = self.refresh is True or (isinstance(self.refresh, frozenset) and name in self.refresh)
        get = self.get
        return (lambda url, fresh_=False: get(url, True)) if fresh else get

    def _once(self, key: tuple[str, ...], work: Callable[[], Any]) -> Any:
        """`work()`'s result, computed once per key however many threads ask at the same time."""
        with self._lock:
            future, mine = self._memo.get(key), False
            if future is None:
                future, mine = self._memo.setdefault(key, Future()), True
        if mine:
            try:
                future.set_result(work())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def versions(self, name: NormalizedName) -> list[Version]:
        """Every version the indexes list for `name`, newest first (usable or not)."""
        return self._page(name).result().versions

    def release(self, name: NormalizedName, version: Version) -> Release | None:
        """The files of `version` the target can use, worked out when first asked for."""
        files = self._page(name).result().files
        wheels, sdists = self.indexes.formats.allowed(name)
        sdists = sdists and self.allow_sdists
        result: Release | None = self._once(
            ("release", name, str(version)),
            lambda: usable_release(version, self._in_time(files(version)), self.interp, sdists, wheels),
        )
        return result

    def _in_time(self, files: tuple[DistFile, ...]) -> tuple[DistFile, ...]:
        if self.exclude_newer is None:
            return files
        from tasks.lock.cutoff import in_time

        return in_time(files, self.exclude_newer, self._untimed)

    def _untimed(self, index: str) -> None:
        """One warning per index whose files have no upload-time (they are left out)."""
        from tasks.core.events import warn

        shown = strip_credentials(index)
        with self._lock:
            if shown in self._warned:
                return
            self._warned.add(shown)
        warn(f"{shown} gives no upload-time for some files: left out, as exclude-newer cannot place them")

    def why_unusable(self, name: NormalizedName, version: Version) -> str | None:
        """In words, why no file of `version` is usable for the target (for error messages)."""
        group = self._page(name).result().files(version)
        if group and not any(python_ok(f.requires_python, self.interp.version) for f in group):
            needs = " or ".join(sorted({f.requires_python for f in group if f.requires_python}))
            return f"{name} {version} requires Python {needs}; the target is {self.interp.version}"
        wheels, sdists = self.indexes.formats.allowed(name)
        if not sdists and any(not f.is_wheel for f in group):
            return f"{name} {version}: --only-binary excludes its sdist and no wheel fits the target"
        if not wheels and any(f.is_wheel for f in group):
            return f"{name} {version}: --no-binary excludes its wheels and it has no sdist"
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        self._walk_back(name, release.version)
        return self._metadata_once(name, release)

    def _metadata_once(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        result: dict[str, Any] = self._once(
            ("metadata", name, str(release.version)),
            lambda: self._check(name, self._release_metadata(name, release)),
        )
        return result

    def _walk_back(self, name: NormalizedName, version: Version) -> None:
        """When a release older than one already read is asked for, the resolver is backtracking
        through `name`'s history (one release per round): read the next older releases' metadata
        in the background, so the walk waits on one round trip per WALK_AHEAD releases, not each."""
        with self._lock:
            newest = self._read.setdefault(name, version)
            if version >= newest:
                self._read[name] = version
                return
        versions = self.versions(name)
        start = versions.index(version) + 1 if version in versions else len(versions)
        for older in versions[start : start + WALK_AHEAD]:
            with self._lock:
                if (name, older) in self._walked:
                    continue
                self._walked.add((name, older))
            with contextlib.suppress(RuntimeError):  # closed: the resolution is over
                self._pool.submit(self._read_quietly, name, older)

    def _read_quietly(self, name: NormalizedName, version: Version) -> None:
        """One release's metadata from its wheel, read ahead (never a build; errors wait for the resolver)."""
        try:
            release = self.release(name, version)
            if release is not None and release.best_wheel(self.interp) is not None:
                self._metadata_once(name, release)
        except WheelwrightError:
            return

    def _release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        wheel = release.metadata_wheel(self.interp)
        if wheel is not None:
            return self._wheel_metadata(wheel)
        sdist = release.sdist()
        if sdist is None or self._source_metadata is None:
            raise ResolutionError(
                f"{release.version} has only a source distribution, which needs a source build", package=name
            )
        return self._source_metadata(name, RegistrySource(), self.interp, self.cache, sdist)

    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]:
        result: dict[str, Any] = self._once(
            ("direct", name, repr(source)), lambda: self._check(name, self._direct_metadata(name, source))
        )
        return result

    def _direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]:
        wheel = _direct_wheel(source)
        if wheel is not None:
            return self._wheel_metadata(wheel)
        if self._source_metadata is None:
            raise ResolutionError(
                "a direct reference needs a source build", package=name, source=source.describe()
            )
        return self._source_metadata(name, source, self.interp, self.cache, None)

    def _check(self, name: NormalizedName, metadata: dict[str, Any]) -> dict[str, Any]:
        found = canonicalize_name(str(metadata.get("name", "")))
        if found != name:
            raise MetadataMismatch(package=name, found=found)
        return metadata


def _direct_wheel(source: Source) -> DistFile | None:
    """A direct reference to a wheel, as a file whose metadata can be read without a build."""
    if source.wheel_ref is None:
        return None
    filename, url, sha256 = source.wheel_ref
    return DistFile(filename, url, (("sha256", sha256),) if sha256 else ())
