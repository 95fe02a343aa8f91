"""Registry (index) wheels: find a pinned distribution's file on the indexes, download, verify, unpack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from tasks.core import layout
from tasks.core.download import download_then
from tasks.core.errors import IndexUnavailable, NoMatchingDistribution
from tasks.core.eventkinds import Warned
from tasks.core.events import emit
from tasks.core.http import Network
from tasks.core.urls import strip_credentials
from tasks.envs.interpreter import Interpreter
from tasks.index.choice import Choice, choose_wheel, matching_sdist
from tasks.index.pages import DistFile, PageGetter, candidate_files, page_getter
from tasks.inputs.config import Indexes
from tasks.wheels.unpacked import is_unpacked, unpack_wheel_in_worker, unpacked_path


@dataclass(frozen=True)
class Fetched:
    """A wheel ready to install: where it is unpacked and what it is (doit's values: tasks.run.values)."""

    name: str
    version: str
    filename: str
    sha256: str
    unpacked: str
    direct_url: dict[str, object] | None = None
    revision: str | None = None  # of the source it was built from


def fetch_registry_wheel(
    *,
    name: NormalizedName,
    version: str,
    hashes: frozenset[str],
    indexes: Indexes,
    interp: Interpreter,
    cache: Path,
    get: PageGetter | None = None,
    net: Network | None = None,
) -> Fetched:
    """Make sure the wheel for `name==version` is unpacked in the cache (a wheel only: no builds),
    fetched through `net` (the run's; by default a network of this call's own)."""
    net = net or Network()
    file = registry_file(
        name=name,
        version=version,
        hashes=hashes,
        indexes=indexes,
        interp=interp,
        cache=cache,
        net=net,
        get=get,
    )
    if not file.is_wheel:
        raise NoMatchingDistribution(
            "only an sdist fits, and this step takes wheels only",
            package=f"{name}=={version}",
            source=_where([file]),
        )
    return fetch_wheel_file(file, name, version, hashes, cache, net)


def registry_file(
    *,
    name: NormalizedName,
    version: str,
    hashes: frozenset[str],
    indexes: Indexes,
    interp: Interpreter,
    cache: Path,
    net: Network,
    get: PageGetter | None = None,
) -> DistFile:
    """The file of `name==version` to use: the best wheel for `interp`, else a matching sdist (the
    index pages through `get`, by default `net`'s index session)."""
    get = get or page_getter(net, cache)
    files = candidate_files(get, indexes, name)
    if not files:
        shown = ", ".join(strip_credentials(u) for u in indexes.urls + indexes.find_links) or "no index"
        raise IndexUnavailable("not found on the index", package=name, source=shown)
    wheels_ok, sdists_ok = indexes.formats.allowed(name)
    no_wheels = Choice(None, f"--no-binary {name} excludes its wheels")
    choice = choose_wheel(files, version, interp, hashes) if wheels_ok else no_wheels
    if choice.file is None:
        sdist = matching_sdist(files, version, interp, hashes)
        if sdist is not None and sdists_ok:
            return sdist
        reason = choice.reason + ("; --only-binary excludes its sdist" if sdist is not None else "")
        raise NoMatchingDistribution(reason, package=f"{name}=={version}", source=_where(files))
    if choice.yanked_only:
        reason = f": {choice.file.yanked}" if choice.file.yanked else ""
        emit(Warned(f"{name}=={version} is yanked{reason}", package=name, version=version))
    return choice.file


def _where(files: list[DistFile]) -> str:
    return strip_credentials(files[0].index) if files else ""


def fetch_wheel_file(
    file: DistFile, name: NormalizedName, version: str, hashes: frozenset[str], cache: Path, net: Network
) -> Fetched:
    from tasks.core.mutexes import download_lock

    expected = set(hashes) if hashes else ({file.sha256} if file.sha256 else set())
    known = file.sha256 if file.sha256 and (not hashes or file.sha256 in hashes) else None
    if known and is_unpacked(unpacked_path(cache, known)):
        return Fetched(name, version, file.filename, known, str(unpacked_path(cache, known)))
    with download_lock(cache, known or strip_credentials(file.url), file.filename):
        if known and is_unpacked(unpacked_path(cache, known)):  # another process fetched it meanwhile
            return Fetched(name, version, file.filename, known, str(unpacked_path(cache, known)))
        return _download_file(file, name, version, expected, cache, net)


def _download_file(
    file: DistFile, name: NormalizedName, version: str, expected: set[str], cache: Path, net: Network
) -> Fetched:
    scratch, unpack = cache / layout.DOWNLOADS.name, unpacker(cache, name, file.filename)
    sha256, unpacked = download_then(
        net, file.url, scratch, file.local_name(name), unpack, package=name, expected=expected
    )
    return Fetched(name, version, file.filename, sha256, str(unpacked))


def unpacker(cache: Path, name: str, filename: str) -> Callable[[Path, str], Path]:
    """What `download_then` does with a downloaded wheel: unpack it into the cache by its sha256."""

    def unpack(wheel: Path, sha256: str) -> Path:
        return unpack_wheel_in_worker(wheel, unpacked_path(cache, sha256), package=name, filename=filename)

    return unpack
