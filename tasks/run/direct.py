"""Fetching direct references (URL and local wheels now; archives, git and paths need a build)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tasks.core.download import download, sha256_file
from tasks.core.errors import BuildError, HashMismatch
from tasks.core.safenames import dist_filename
from tasks.index.choice import wheel_rank
from tasks.inputs.sources import PathSource, UrlSource
from tasks.run.model import PinJob
from tasks.wheels.fetch import Fetched
from tasks.wheels.unpacked import is_unpacked, unpack_wheel, unpack_wheel_in_worker, unpacked_path


def archive_direct_url(url: str, sha256: str, subdirectory: str | None = None) -> dict[str, Any]:
    """PEP 610 direct_url.json for an archive."""
    data: dict[str, Any] = {
        "url": url,
        "archive_info": {"hash": f"sha256={sha256}", "hashes": {"sha256": sha256}},
    }
    if subdirectory:
        data["subdirectory"] = subdirectory
    return data


def fetch_direct(pin: PinJob, cache: Path) -> Fetched:
    source = pin.line.source
    if isinstance(source, UrlSource) and source.filename.endswith(".whl"):
        return _url_wheel(pin, source, cache)
    if isinstance(source, PathSource) and source.path.suffix == ".whl":
        return _path_wheel(pin, source, cache)
    return build_direct(pin, cache)


def build_direct(pin: PinJob, cache: Path) -> Fetched:
    """A URL archive, git ref or local project: its wheel for the target, built only when needed."""
    from tasks.inputs.config import effective_indexes
    from tasks.source.build import fetched_wheel, source_tree, wheel_of_tree

    tree = source_tree(pin.name, pin.line.source, cache, hashes=pin.line.sha256s())
    indexes = effective_indexes(list(pin.index_layers))
    wheel = wheel_of_tree(pin.name, tree, pin.interp, indexes, cache)
    return fetched_wheel(pin.name, tree, wheel, cache)


def _check_tags(pin: PinJob, filename: str, where: str) -> None:
    if wheel_rank(filename, pin.interp) is None:
        raise BuildError(
            f"wheel {filename} does not fit Python {pin.interp.version}",
            package=pin.name,
            source=where,
        )


def _expected(pin: PinJob, source: UrlSource) -> set[str]:
    expected = set(pin.line.sha256s())
    if source.sha256:
        expected.add(source.sha256.lower())
    return expected


def _url_wheel(pin: PinJob, source: UrlSource, cache: Path) -> Fetched:
    dist_filename(source.filename, pin.name, source=source.url)
    _check_tags(pin, source.filename, source.describe())
    expected = _expected(pin, source)
    for sha in expected:
        if is_unpacked(unpacked_path(cache, sha)):
            return _fetched(pin, source.filename, sha, cache, archive_direct_url(source.url, sha))
    from tasks.core.locks import download_lock

    with download_lock(cache, source.describe(), source.filename):
        for sha in expected:  # another process may have fetched it while this one waited
            if is_unpacked(unpacked_path(cache, sha)):
                return _fetched(pin, source.filename, sha, cache, archive_direct_url(source.url, sha))
        return _download_url_wheel(pin, source, expected, cache)


def _download_url_wheel(pin: PinJob, source: UrlSource, expected: set[str], cache: Path) -> Fetched:
    from tasks.core.http import file_session

    target = cache / "downloads-v0" / uuid.uuid4().hex / source.filename
    sha = download(file_session(), source.url, target, package=pin.name, expected_sha256=expected)
    try:
        unpack_wheel_in_worker(target, unpacked_path(cache, sha), package=pin.name, filename=source.filename)
    finally:
        target.unlink(missing_ok=True)
        target.parent.rmdir()
    return _fetched(pin, source.filename, sha, cache, archive_direct_url(source.url, sha))


def _path_wheel(pin: PinJob, source: PathSource, cache: Path) -> Fetched:
    dist_filename(source.path.name, pin.name, source=str(source.path))
    _check_tags(pin, source.path.name, source.describe())
    sha = sha256_file(source.path)
    expected = pin.line.sha256s()
    if expected and sha not in expected:
        raise HashMismatch(package=pin.name, source=str(source.path), expected=sorted(expected), got=sha)
    unpack_wheel(source.path, unpacked_path(cache, sha), package=pin.name, filename=source.path.name)
    return _fetched(pin, source.path.name, sha, cache, archive_direct_url(source.path.as_uri(), sha))


def _fetched(pin: PinJob, filename: str, sha: str, cache: Path, direct_url: dict[str, Any]) -> Fetched:
    version = filename.split("-")[1]
    return Fetched(pin.name, version, filename, sha, str(unpacked_path(cache, sha)), direct_url)
