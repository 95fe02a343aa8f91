"""The network side of each kind of source, behind one interface: its current revision and its tree.

| kind | revision (`revision()`) | tree (`tree(revision)`) |
|---|---|---|
| index sdist | its sha256 (immutable, no request) | the sdist extracted under sources-v0/<sha256> |
| direct URL | archive sha256, revalidated with ETag/Last-Modified | the archive extracted likewise |
| git | the commit the ref names (`ls-remote`) | a checkout of that commit |
| local path | a content digest of what the build reads | the directory (or the archive extracted) |
| `-e` path | a digest of what decides its metadata | the directory |

`cached(revision)` says whether that tree can be had without the remote: what a run falls back
on when a git remote or URL host is down (`tasks.run.degrade`).

`build_source` is the one place that picks the kind; everything else asks the source. A revision
computed once per run (for doit's `uptodate`) is handed to `tree`, so no source is checked twice.
Each kind that reaches upstream is handed the run's `Network` (its sessions, and whether it is offline).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tasks.core import layout
from tasks.core.http import Network
from tasks.index.pages import DistFile
from tasks.inputs.sources import GitSource, PathSource, Source, UrlSource
from tasks.source.trees import Tree

if TYPE_CHECKING:
    from tasks.source.url import UrlState


class BuildSource(Protocol):
    """A source to build from, as every kind answers it."""

    @property
    def name(self) -> str: ...

    def revision(self) -> str:
        """The source's revision upstream now (one request, one ls-remote, or a local digest)."""
        ...

    def tree(self, revision: str) -> Tree:
        """The tree of `revision`, fetched or extracted when not already in the cache."""
        ...

    def cached(self, revision: str) -> bool:
        """Whether the cache holds what `tree(revision)` needs, so it works without the remote."""
        ...


@dataclass(frozen=True)
class RegistrySdist:
    name: str
    file: DistFile
    hashes: frozenset[str]
    cache: Path
    net: Network

    def revision(self) -> str:
        return self.file.sha256 or next(iter(sorted(self.hashes)), "")

    def tree(self, revision: str) -> Tree:
        from tasks.inputs.config import pip_default_index
        from tasks.source.trees import registry_tree

        return registry_tree(self.name, self.file, self.hashes, self.cache, pip_default_index(), self.net)

    def cached(self, revision: str) -> bool:
        return False  # never asked: an index file's revision needs no remote check


@dataclass(frozen=True)
class UrlArchive:
    name: str
    source: UrlSource
    hashes: frozenset[str]
    cache: Path
    net: Network

    def revision(self) -> str:
        return self._revalidated().sha256

    def _revalidated(self) -> UrlState:
        from tasks.source.url import revalidate

        expected = self.hashes | ({self.source.sha256.lower()} if self.source.sha256 else set())
        return revalidate(
            self.net, self.source.url, self.source.filename, self.cache,
            package=self.name, expected=frozenset(expected),
        )  # fmt: skip

    def tree(self, revision: str) -> Tree:
        from tasks.source.trees import extract_archive, project_root
        from tasks.source.url import archive_path, load_state

        source = self.source
        state: UrlState | None = load_state(self.cache, source.url)
        archive = archive_path(self.cache, source.url, revision, source.filename)
        if state is None or state.sha256 != revision or not archive.is_file():
            state = self._revalidated()  # not downloaded yet (a `#sha256=` URL), or changed since
            archive = archive_path(self.cache, source.url, state.sha256, source.filename)
        extracted = extract_archive(
            archive, self.cache / layout.SOURCES.name / state.sha256, package=self.name
        )
        root = project_root(extracted, source.subdirectory, package=self.name, where=source.describe())
        info = {
            "url": source.describe(),
            "sha256": state.sha256,
            "etag": state.etag,
            "last-modified": state.last_modified,
        }
        return Tree(root, state.sha256, source.bucket(), info, source.direct_url(state.sha256))

    def cached(self, revision: str) -> bool:
        from tasks.source.url import archive_path, load_state

        state = load_state(self.cache, self.source.url)
        where = archive_path(self.cache, self.source.url, revision, self.source.filename)
        return state is not None and state.sha256 == revision and where.is_file()


@dataclass(frozen=True)
class GitRepository:
    name: str
    source: GitSource
    cache: Path
    net: Network

    def revision(self) -> str:
        from tasks.source.git import resolve_ref

        return resolve_ref(self.source, package=self.name, offline=self.net.offline)

    def tree(self, revision: str) -> Tree:
        from tasks.source.git import checkout
        from tasks.source.trees import project_root

        source = self.source
        root = checkout(source, revision, self.cache, package=self.name, offline=self.net.offline)
        root = project_root(root, source.subdirectory, package=self.name, where=source.describe())
        info = {"url": source.describe(), "commit": revision}
        return Tree(root, revision, source.bucket(revision), info, source.direct_url(revision))

    def cached(self, revision: str) -> bool:
        from tasks.source.git import has_commit

        return has_commit(self.source, revision, self.cache)


@dataclass(frozen=True)
class LocalPath:
    name: str
    source: PathSource
    cache: Path

    def revision(self) -> str:
        from tasks.core.download import sha256_file
        from tasks.source.trees import directory_revision

        location = self.source.path
        return sha256_file(location) if location.is_file() else directory_revision(self.source)

    def tree(self, revision: str) -> Tree:
        from tasks.source.trees import path_tree

        return path_tree(self.name, self.source, self.cache, revision)

    def cached(self, revision: str) -> bool:
        return True  # a local tree is always at hand


def build_source(
    name: str,
    source: Source,
    cache: Path,
    net: Network,
    *,
    hashes: frozenset[str] = frozenset(),
    dist_file: DistFile | None = None,
) -> BuildSource:
    """The one place a source's kind is looked at: the build side of `source`, reaching upstream
    through `net`."""
    if dist_file is not None:
        return RegistrySdist(name, dist_file, hashes, cache, net)
    if isinstance(source, UrlSource):
        return UrlArchive(name, source, hashes, cache, net)
    if isinstance(source, GitSource):
        return GitRepository(name, source, cache, net)
    if isinstance(source, PathSource):
        return LocalPath(name, source, cache)
    raise TypeError(f"{name}: an index file needs the file the index chose")
