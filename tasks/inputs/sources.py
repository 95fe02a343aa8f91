"""Where a distribution comes from (index, direct URL, git, local path) and its cache bucket."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit, urlunsplit

from tasks.core.urls import canonical_url, digest, strip_credentials, url_digest


@dataclass(frozen=True)
class RegistrySource:
    """A file an index serves; which index is decided from the index options at fetch time."""

    kind = "registry"

    def describe(self) -> str:
        return "index"


@dataclass(frozen=True)
class UrlSource:
    """A direct URL to an archive (wheel, sdist, or any archive name such as master.zip)."""

    url: str
    subdirectory: str | None = None
    sha256: str | None = None
    kind = "url"

    @property
    def filename(self) -> str:
        """The URL's decoded basename, one safe path segment (checked by source_from_url already)."""
        from tasks.core.safenames import url_filename

        return url_filename(self.url)

    @property
    def bucket(self) -> str:
        return f"url/{url_digest(self.url)}/{self.filename}"

    def describe(self) -> str:
        return strip_credentials(self.url)


@dataclass(frozen=True)
class GitSource:
    """A git repository at a branch, tag or commit (`ref` None means the default branch)."""

    url: str
    ref: str | None = None
    subdirectory: str | None = None
    kind = "git"

    @property
    def repo_digest(self) -> str:
        return url_digest(self.url, git=True)

    def bucket(self, commit: str) -> str:
        return f"git/{self.repo_digest}/{commit}"

    def describe(self) -> str:
        at = f"@{self.ref}" if self.ref else ""
        return f"git+{strip_credentials(self.url)}{at}"


@dataclass(frozen=True)
class PathSource:
    """A local project directory or archive, stored absolute."""

    path: Path
    editable: bool = False
    kind = "path"

    def bucket(self, revision: str) -> str:
        return f"path/{digest(str(self.path))}/{revision}"

    def describe(self) -> str:
        return str(self.path)


Source = RegistrySource | UrlSource | GitSource | PathSource

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")


def _fragment_params(fragment: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(fragment).items()}


def fragment_value(url: str, key: str) -> str | None:
    return _fragment_params(urlsplit(url).fragment).get(key)


def source_from_url(url: str, package: str | None = None) -> Source:
    """A direct reference's URL (`git+...`, `https://...`, `file:...`) as a Source.

    An archive URL whose basename cannot be a file name (`..%2Fx.cfg`) raises UnsafeName here,
    before anything is planned or fetched.
    """
    parts = urlsplit(url)
    params = _fragment_params(parts.fragment)
    subdirectory = params.get("subdirectory")
    if parts.scheme.startswith("git+"):
        return _git_source(parts, subdirectory)
    if parts.scheme == "file":
        return PathSource(Path(unquote(parts.path)).resolve())
    sha256 = params.get("sha256")
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    from tasks.core.safenames import url_filename

    url_filename(bare, package=package)
    return UrlSource(bare, subdirectory=subdirectory, sha256=sha256)


def _git_source(parts: SplitResult, subdirectory: str | None) -> GitSource:
    path, ref = parts.path, None
    if "@" in path:
        path, _, ref = path.rpartition("@")
    url = urlunsplit((parts.scheme.removeprefix("git+"), parts.netloc, path, parts.query, ""))
    return GitSource(url, ref=ref or None, subdirectory=subdirectory)


def direct_url_identity(source: Source) -> str:
    """A stable text naming a source, for task keys and comparisons (no credentials)."""
    if isinstance(source, UrlSource):
        return f"url:{canonical_url(source.url)}#{source.subdirectory or ''}"
    if isinstance(source, GitSource):
        return f"git:{canonical_url(source.url, git=True)}@{source.ref or ''}#{source.subdirectory or ''}"
    if isinstance(source, PathSource):
        return f"path:{source.path}"
    return "registry"
