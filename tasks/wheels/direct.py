"""Direct references to wheels (a URL or a local file): checked, downloaded once, unpacked."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName

from tasks.core import layout
from tasks.core.download import download_then, sha256_file
from tasks.core.errors import HashMismatch, IncompatibleWheel
from tasks.core.http import Network
from tasks.core.safenames import dist_filename
from tasks.envs.interpreter import Interpreter
from tasks.index.choice import wheel_rank
from tasks.inputs.sources import Source
from tasks.wheels.registry import Fetched, unpacker
from tasks.wheels.unpacked import is_unpacked, unpack_wheel, unpacked_path


def fetch_direct_wheel(
    name: NormalizedName,
    source: Source,
    hashes: frozenset[str],
    interp: Interpreter,
    cache: Path,
    net: Network | None = None,
) -> Fetched:
    """The wheel a direct reference names (a URL or a local file), unpacked, with its PEP 610 record;
    a URL is fetched through `net` (the run's; by default a network of this call's own)."""
    if source.wheel_ref is None:
        raise ValueError(f"{name}: {source.describe()} is not a wheel")
    location = source.wheel_ref[1]
    if location.startswith("file:"):
        return _path_wheel(name, source, Path(unquote(urlsplit(location).path)), hashes, interp, cache)
    return _url_wheel(name, source, hashes, interp, cache, net or Network())


def _check_tags(name: str, filename: str, interp: Interpreter, where: str) -> None:
    if wheel_rank(filename, interp) is None:
        raise IncompatibleWheel(package=name, source=where, filename=filename, python=interp.version)


def _url_wheel(
    name: NormalizedName,
    source: Source,
    hashes: frozenset[str],
    interp: Interpreter,
    cache: Path,
    net: Network,
) -> Fetched:
    assert source.wheel_ref is not None
    filename, url, sha256 = source.wheel_ref
    dist_filename(filename, name, source=url)
    _check_tags(name, filename, interp, source.describe())
    expected = set(hashes) | ({sha256.lower()} if sha256 else set())
    if (found := _unpacked(name, source, expected, cache)) is not None:
        return found
    from tasks.core.mutexes import download_lock

    with download_lock(cache, source.describe(), filename):
        # another process may have fetched it while this one waited
        return _unpacked(name, source, expected, cache) or _download(name, source, expected, cache, net)


def _unpacked(name: NormalizedName, source: Source, expected: set[str], cache: Path) -> Fetched | None:
    sha = next((sha for sha in expected if is_unpacked(unpacked_path(cache, sha))), None)
    return None if sha is None else _fetched(name, sha, cache, source)


def _download(name: NormalizedName, source: Source, expected: set[str], cache: Path, net: Network) -> Fetched:
    assert source.wheel_ref is not None
    filename, url, _ = source.wheel_ref
    sha, _unpacked = download_then(
        net, url, cache / layout.DOWNLOADS.name, filename, unpacker(cache, name, filename),
        package=name, expected=expected, shown=source.describe(),
    )  # fmt: skip
    return _fetched(name, sha, cache, source)


def _path_wheel(
    name: NormalizedName, source: Source, path: Path, hashes: frozenset[str], interp: Interpreter, cache: Path
) -> Fetched:
    dist_filename(path.name, name, source=str(path))
    _check_tags(name, path.name, interp, source.describe())
    sha = sha256_file(path)
    if hashes and sha not in hashes:
        raise HashMismatch(package=name, source=str(path), expected=sorted(hashes), got=sha)
    unpack_wheel(path, unpacked_path(cache, sha), package=name, filename=path.name)
    return _fetched(name, sha, cache, source)


def _fetched(name: NormalizedName, sha: str, cache: Path, source: Source) -> Fetched:
    assert source.wheel_ref is not None
    filename = source.wheel_ref[0]
    version = filename.split("-")[1]
    return Fetched(name, version, filename, sha, str(unpacked_path(cache, sha)), source.direct_url(sha))
