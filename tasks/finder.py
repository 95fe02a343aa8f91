"""What the resolver may choose from: versions of a project on the indexes, and their metadata."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tasks.config import Indexes
from tasks.errors import ResolutionError, WheelwrightError
from tasks.fetch import candidate_files
from tasks.index import DistFile, PageGetter
from tasks.interpreter import Interpreter
from tasks.select import file_version, python_ok, wheel_rank
from tasks.sources import PathSource, RegistrySource, Source, UrlSource


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


@dataclass(frozen=True)
class Release:
    """One version of a project: the files usable for the target, and whether all are yanked."""

    version: Version
    files: tuple[DistFile, ...]
    all_files: tuple[DistFile, ...]
    yanked: bool

    def best_wheel(self, interp: Interpreter) -> DistFile | None:
        ranked = [
            (r, f) for f in self.files if f.is_wheel and (r := wheel_rank(f.filename, interp)) is not None
        ]
        return min(ranked, key=lambda item: (item[1].yanked is not None, item[0]))[1] if ranked else None

    def sdist(self) -> DistFile | None:
        return next((f for f in self.files if not f.is_wheel), None)


def releases(files: list[DistFile], interp: Interpreter, allow_sdists: bool) -> list[Release]:
    """Group a project's files by version, newest first, keeping those the target can use (pure)."""
    by_version: dict[Version, list[DistFile]] = {}
    for file in files:
        version = file_version(file.filename)
        if version is not None:
            by_version.setdefault(version, []).append(file)
    found = []
    for version, group in by_version.items():
        usable = [
            f
            for f in group
            if python_ok(f.requires_python, interp.version) and _usable(f, interp, allow_sdists)
        ]
        if usable:
            yanked = all(f.yanked is not None for f in usable)
            found.append(Release(version, tuple(usable), tuple(group), yanked))
    return sorted(found, key=lambda r: r.version, reverse=True)


def _usable(file: DistFile, interp: Interpreter, allow_sdists: bool) -> bool:
    if file.is_wheel:
        return wheel_rank(file.filename, interp) is not None
    return allow_sdists


class Finder:
    """Project files and metadata, memoized for one resolution (safe to share across threads)."""

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
    ):
        self.indexes, self.interp, self.cache, self.get = indexes, interp, cache, get
        self.refresh = refresh
        self._wheel_metadata, self._source_metadata = wheel_metadata, source_metadata
        self.allow_sdists = allow_sdists and source_metadata is not None
        self._pages: dict[NormalizedName, Future[list[DistFile]]] = {}
        self._releases: dict[NormalizedName, list[Release]] = {}
        self._metadata: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8)

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        """Start fetching the index pages of `names` in the background (the resolver will ask)."""
        for name in names:
            self._page(name)

    def _page(self, name: NormalizedName) -> Future[list[DistFile]]:
        with self._lock:
            if name not in self._pages:
                self._pages[name] = self._pool.submit(candidate_files, self._getter(name), self.indexes, name)
            return self._pages[name]

    def _getter(self, name: NormalizedName) -> PageGetter:
        """Pages of names being upgraded are revalidated even within their max-age."""
        fresh = self.refresh is True or (isinstance(self.refresh, frozenset) and name in self.refresh)
        get = self.get
        return (lambda url, fresh_=False: get(url, True)) if fresh else get

    def files(self, name: NormalizedName) -> list[DistFile]:
        return self._page(name).result()

    def releases(self, name: NormalizedName) -> list[Release]:
        if name not in self._releases:
            self._releases[name] = releases(self.files(name), self.interp, self.allow_sdists)
        return self._releases[name]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        key = (name, str(release.version))
        if key not in self._metadata:
            self._metadata[key] = self._check(name, self._release_metadata(name, release))
        return self._metadata[key]

    def _release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        wheel = release.best_wheel(self.interp)
        if wheel is not None:
            return self._wheel_metadata(wheel)
        sdist = release.sdist()
        if sdist is None or self._source_metadata is None:
            raise ResolutionError(
                f"{release.version} has only a source distribution, which needs a source build", package=name
            )
        return self._source_metadata(name, RegistrySource(), self.interp, self.cache, sdist)

    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]:
        key = (name, repr(source))
        wheel = _direct_wheel(source)
        if key not in self._metadata and wheel is not None:
            self._metadata[key] = self._check(name, self._wheel_metadata(wheel))
        if key not in self._metadata:
            if self._source_metadata is None:
                raise ResolutionError(
                    "a direct reference needs a source build", package=name, source=source.describe()
                )
            self._metadata[key] = self._check(
                name, self._source_metadata(name, source, self.interp, self.cache, None)
            )
        return self._metadata[key]

    def _check(self, name: NormalizedName, metadata: dict[str, Any]) -> dict[str, Any]:
        found = canonicalize_name(str(metadata.get("name", "")))
        if found != name:
            raise WheelwrightError(f"metadata names {found!r}, not {name!r}", package=name)
        return metadata


def _direct_wheel(source: Source) -> DistFile | None:
    """A direct reference to a wheel, as a file whose metadata can be read without a build."""
    if isinstance(source, UrlSource) and source.filename.endswith(".whl"):
        hashes = (("sha256", source.sha256),) if source.sha256 else ()
        return DistFile(source.filename, source.url, hashes)
    if isinstance(source, PathSource) and source.path.suffix == ".whl":
        return DistFile(source.path.name, source.path.as_uri())
    return None
