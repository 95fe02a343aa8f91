"""Where a distribution comes from (index, direct URL, git, local path): one interface for all four.

Every kind answers the same pure questions: what it is called (`describe`, `identity`), the wheel
it names when it is a direct wheel (`wheel_name`; a pin's kind is `tasks.run.pinkind`'s), its bucket
for a revision, whether its revision is known without network (`offline_revision`), and its PEP 610
`direct_url`. The network side (the current revision, the tree) is `tasks.source.kinds`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit, urlunsplit

from tasks.core import layout
from tasks.core.names import is_wheel_filename
from tasks.core.urls import canonical_url, digest, strip_credentials, url_digest


def archive_direct_url(url: str, sha256: str, subdirectory: str | None = None) -> dict[str, Any]:
    """PEP 610 direct_url.json of an archive (URL or local file), hash included."""
    data: dict[str, Any] = {
        "url": url,
        "archive_info": {"hash": f"sha256={sha256}", "hashes": {"sha256": sha256}},
    }
    if subdirectory:
        data["subdirectory"] = subdirectory
    return data


@dataclass(frozen=True)
class RegistrySource:
    """A file an index serves; which index, and whether a wheel or an sdist, is decided at fetch time."""

    kind = "registry"
    direct = False  # not a direct reference: the index options choose the file

    def describe(self) -> str:
        return "index"

    def identity(self) -> str:
        return "registry"

    @property
    def wheel_name(self) -> str | None:
        return None

    def offline_revision(self, hashes: frozenset[str]) -> str | None:
        """Index files are immutable: a single `--hash` is the revision, no network needed."""
        return next(iter(hashes)) if len(hashes) == 1 else None

    def direct_url(self, revision: str) -> dict[str, Any] | None:
        return None

    remote_url = None  # no URL of its own: the index's file URL is chosen at fetch time
    wheel_ref = None
    hash_refusal = None
    commit_in_lock = False

    def problem(self) -> str | None:
        return None

    def requirement(self, name: str, version: str, commit: str | None, shown: Callable[[str], str]) -> str:
        """The lock line's requirement for this source (`shown` writes a URL as the lock keeps it)."""
        return f"{name}=={version}"


@dataclass(frozen=True)
class UrlSource:
    """A direct URL to an archive (wheel, sdist, or any archive name such as master.zip)."""

    url: str
    subdirectory: str | None = None
    sha256: str | None = None
    kind = "url"
    direct = True

    @property
    def filename(self) -> str:
        """The URL's decoded basename, one safe path segment (checked by source_from_url already)."""
        from tasks.core.safenames import url_filename

        return url_filename(self.url)

    def bucket(self, revision: str = "") -> str:
        """One bucket per URL: a republished archive overwrites its metadata.json."""
        return layout.Bucket("url", url_digest(self.url), self.filename).key

    def describe(self) -> str:
        return strip_credentials(self.url)

    def identity(self) -> str:
        return f"url:{canonical_url(self.url)}#{self.subdirectory or ''}"

    @property
    def wheel_name(self) -> str | None:
        return self.filename if is_wheel_filename(self.filename) else None

    def offline_revision(self, hashes: frozenset[str]) -> str | None:
        """`#sha256=` names the content: no revalidation needed."""
        return self.sha256.lower() if self.sha256 else None

    def direct_url(self, revision: str) -> dict[str, Any]:
        return archive_direct_url(self.url, revision, self.subdirectory)

    @property
    def remote_url(self) -> str:
        return self.url

    @property
    def wheel_ref(self) -> tuple[str, str, str | None] | None:
        """(filename, URL, sha256) of a direct reference to a wheel."""
        return (self.filename, self.url, self.sha256) if self.wheel_name else None

    hash_refusal = None
    commit_in_lock = False

    def problem(self) -> str | None:
        if self.url.startswith(("http://", "https://")):
            return None
        return f"unsupported URL scheme in {self.describe()!r}"

    def requirement(self, name: str, version: str, commit: str | None, shown: Callable[[str], str]) -> str:
        frags = [f"sha256={self.sha256}"] if self.sha256 else []
        frags += [f"subdirectory={self.subdirectory}"] if self.subdirectory else []
        return f"{name} @ {shown(self.url)}" + ("#" + "&".join(frags) if frags else "")


@dataclass(frozen=True)
class GitSource:
    """A git repository at a branch, tag or commit (`ref` None means the default branch)."""

    url: str
    ref: str | None = None
    subdirectory: str | None = None
    kind = "git"
    direct = True
    wheel_name = None

    @property
    def repo_digest(self) -> str:
        return url_digest(self.url, git=True)

    def bucket(self, commit: str) -> str:
        return layout.Bucket("git", self.repo_digest, commit).key

    def describe(self) -> str:
        at = f"@{self.ref}" if self.ref else ""
        return f"git+{strip_credentials(self.url)}{at}"

    def identity(self) -> str:
        return f"git:{canonical_url(self.url, git=True)}@{self.ref or ''}#{self.subdirectory or ''}"

    def offline_revision(self, hashes: frozenset[str]) -> str | None:
        """A ref that is a full commit sha names itself; a branch or tag needs `ls-remote`."""
        ref = (self.ref or "").lower()
        return ref if len(ref) == 40 and all(c in "0123456789abcdef" for c in ref) else None

    def direct_url(self, revision: str) -> dict[str, Any]:
        vcs = {"vcs": "git", "commit_id": revision, **({"requested_revision": self.ref} if self.ref else {})}
        data: dict[str, Any] = {"url": self.url, "vcs_info": vcs}
        if self.subdirectory:
            data["subdirectory"] = self.subdirectory
        return data

    @property
    def remote_url(self) -> str:
        return self.url

    wheel_ref = None
    hash_refusal = "a git repository (there is no archive to hash); pin the commit in the URL instead"
    commit_in_lock = True  # a lock names the commit the build used, not the branch

    def problem(self) -> str | None:
        return None

    def requirement(self, name: str, version: str, commit: str | None, shown: Callable[[str], str]) -> str:
        ref = commit or self.ref
        at = f"@{ref}" if ref else ""
        sub = f"#subdirectory={self.subdirectory}" if self.subdirectory else ""
        return f"{name} @ git+{shown(self.url)}{at}{sub}"


@dataclass(frozen=True)
class PathSource:
    """A local project directory or archive, stored absolute; `editable` (`-e`): installed in place."""

    path: Path
    editable: bool = False
    relative: bool = field(default=False, compare=False)  # written relative: a lock keeps it relative
    kind = "path"
    direct = True

    def bucket(self, revision: str) -> str:
        """One bucket per path and revision (a directory's is its content digest, cut to 16).

        An editable build is another bucket (`editable/`): its wheel points into the directory.
        """
        kind: layout.Kind = "editable" if self.editable else "path"
        return layout.Bucket(kind, digest(str(self.path)), revision[:16]).key

    def describe(self) -> str:
        return str(self.path)

    def identity(self) -> str:
        return f"path:{self.path}" + ("#editable" if self.editable else "")

    @property
    def wheel_name(self) -> str | None:
        return self.path.name if is_wheel_filename(self.path.name) else None

    def offline_revision(self, hashes: frozenset[str]) -> str | None:
        return None  # a content digest, cheap and local: computed once per run

    def direct_url(self, revision: str) -> dict[str, Any]:
        if self.path.is_file():
            return archive_direct_url(self.path.as_uri(), revision)
        info = {"editable": True} if self.editable else {}
        return {"url": self.path.as_uri(), "dir_info": info, "wheelwright": {"revision": revision}}

    remote_url = None
    commit_in_lock = False

    @property
    def wheel_ref(self) -> tuple[str, str, str | None] | None:
        return (self.path.name, self.path.as_uri(), None) if self.wheel_name else None

    @property
    def hash_refusal(self) -> str | None:
        if self.path.is_dir():
            return "a local directory (there is no archive to hash); point to a built archive instead"
        return None

    def problem(self) -> str | None:
        return None if self.path.exists() else f"{self.path} does not exist"

    def requirement(self, name: str, version: str, commit: str | None, shown: Callable[[str], str]) -> str:
        """`shown` gives a relative path for a source written relative (a lock that travels)."""
        where = shown(self.path.as_uri())
        if self.editable:
            return f"-e {where}"  # pip's form: an editable line names no project
        return f"{name} @ {where}"


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
