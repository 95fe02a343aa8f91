"""Source trees to build from, each with the revision that ties its cache entry to upstream.

| source | revision | tree |
|---|---|---|
| index sdist | its sha256 (immutable) | extracted under sources-v0/<sha256> |
| direct URL | the archive's sha256, revalidated with ETag/Last-Modified | extracted likewise |
| git | the commit the ref names | a checkout under git-v0/checkouts/<repo>/<commit> |
| local directory | a digest of the files the build reads | the directory itself |
| editable directory | a digest of the files that decide metadata (tasks.source.editable) | likewise |
| local archive | its sha256 | extracted likewise |
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.download import download_then, sha256_file
from tasks.core.errors import SourceError
from tasks.core.files import publish_dir, temp_beside
from tasks.core.urls import strip_credentials
from tasks.index.pages import DistFile
from tasks.inputs.sources import PathSource

if TYPE_CHECKING:
    from tasks.core.http import Network

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".venv", "build", "dist", ".eggs"}


@dataclass(frozen=True)
class Tree:
    """A source tree ready to build, and what identifies it."""

    path: Path
    revision: str
    bucket: str  # below built-wheel-metadata-v0/ and built-wheels-v0/
    info: dict[str, Any] = field(default_factory=dict)  # stored as metadata.json's "source"
    direct_url: dict[str, Any] | None = None
    editable: bool = False  # built with PEP 660 build_editable (a local directory given with -e)


# --- archives ------------------------------------------------------------------------------


def extract_archive(archive: Path, target: Path, *, package: str) -> Path:
    """Extract an sdist or any source archive safely (nothing outside, no links pointing out)."""
    if (target / layout.COMPLETE).exists():
        return target
    with temp_beside(target, directory=True) as tmp:
        try:
            _extract_into(archive, tmp)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, ValueError) as exc:
            raise SourceError(f"cannot extract {archive.name}: {exc}", package=package) from None
        (tmp / layout.COMPLETE).write_text(archive.name)
        publish_dir(tmp, target)
    return target


def _extract_into(archive: Path, dest: Path) -> None:
    """Every member and link checked before anything is written (see tasks.source.extract)."""
    from tasks.source.extract import extract_archive_file

    extract_archive_file(archive, dest)


def project_root(extracted: Path, subdirectory: str | None, *, package: str, where: str) -> Path:
    """The project inside an extracted archive: the single top folder (sdists), then #subdirectory."""
    entries = [p for p in extracted.iterdir() if p.name != layout.COMPLETE]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else extracted
    if subdirectory:
        root = root / subdirectory
    if not ((root / "pyproject.toml").is_file() or (root / "setup.py").is_file()):
        raise SourceError(
            "no Python project (pyproject.toml or setup.py) in it", package=package, source=where
        )
    return root


# --- index sdists ---------------------------------------------------------------------------


def registry_bucket(file: DistFile, default_index: str) -> str:
    return layout.index_bucket(file.index, file.filename, default_index).key


def registry_tree(
    name: str, file: DistFile, expected: frozenset[str], cache: Path, default_index: str, net: Network
) -> Tree:
    """An index sdist: immutable, so known by its sha256 and never revalidated; fetched once per
    cache under the same per-file lock as a wheel (concurrent runs wait, then reuse its tree)."""
    from tasks.core.mutexes import download_lock

    filename = file.local_name(name)  # a valid sdist name of `name`, one path segment
    sha = file.sha256 or ""
    extracted = cache / layout.SOURCES.name / sha
    if not sha or not (extracted / layout.COMPLETE).exists():
        with download_lock(cache, sha or strip_credentials(file.url), filename):  # as a wheel's
            if sha and (extracted / layout.COMPLETE).exists():  # another process fetched it meanwhile
                return registry_tree(name, file, expected, cache, default_index, net)
            extracted = _download_sdist(name, file, expected, cache, filename, net)
            sha = extracted.name
    root = project_root(extracted, None, package=name, where=strip_credentials(file.url))
    info = {"url": strip_credentials(file.url), "sha256": sha}
    return Tree(root, sha, registry_bucket(file, default_index), info)


def _download_sdist(
    name: str, file: DistFile, expected: frozenset[str], cache: Path, filename: str, net: Network
) -> Path:
    """Download an index sdist and extract it under sources-v0/<sha256> (the archive is not kept)."""
    sha = file.sha256 or ""
    _, extracted = download_then(
        net, file.url, cache / layout.SDISTS.name, filename,
        lambda archive, got: extract_archive(archive, cache / layout.SOURCES.name / got, package=name),
        package=name, expected=set(expected) or ({sha} if sha else set()),
    )  # fmt: skip
    return extracted


# --- local paths ----------------------------------------------------------------------------


def tree_digest(root: Path) -> str:
    """A digest of the content of every file a build of `root` can read (build outputs skipped)."""
    digest = hashlib.sha256()
    for path in sorted(_project_files(root)):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _project_files(root: Path) -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        found += [Path(directory) / f for f in files if not f.endswith((".pyc", ".so"))]
    return found


def path_tree(name: str, source: PathSource, cache: Path, revision: str | None = None) -> Tree:
    """A local directory (built in place) or archive (extracted); `revision` when already computed."""
    location = source.path
    if location.is_file():
        sha = revision or sha256_file(location)
        extracted = extract_archive(location, cache / layout.SOURCES.name / sha, package=name)
        root = project_root(extracted, None, package=name, where=str(location))
        return Tree(root, sha, source.bucket(sha), {"path": str(location)}, source.direct_url(sha))
    if not location.is_dir():
        raise SourceError("path does not exist", package=name, source=str(location))
    project_root(location, None, package=name, where=str(location))
    revision = revision or directory_revision(source)
    info = {"path": str(location)}
    bucket, direct_url = source.bucket(revision), source.direct_url(revision)
    return Tree(location, revision, bucket, info, direct_url, editable=source.editable)


def directory_revision(source: PathSource) -> str:
    """A local directory's revision: what the build reads, or for `-e` only what decides metadata."""
    if source.editable:
        from tasks.source.editable import editable_revision

        return editable_revision(source.path)
    return tree_digest(source.path)
