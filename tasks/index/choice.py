"""Choosing the file to install for a pin: version, hashes, requires-python, yanked, wheel tags."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidSdistFilename, canonicalize_version, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from tasks.envs.interpreter import Interpreter
from tasks.index.pages import DistFile


@dataclass(frozen=True)
class Choice:
    """The file chosen for a pin, or why none fits."""

    file: DistFile | None
    reason: str = ""
    yanked_only: bool = False


@functools.cache
def file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return _version(filename.split("-")[1]) if filename.count("-") >= 4 else None
        return parse_sdist_filename(filename)[1]
    except (InvalidSdistFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Version:
    return Version(text)


@functools.lru_cache(maxsize=4096)
def python_ok(requires_python: str | None, python_version: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python_version, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores an unparsable requires-python


def wheel_rank(filename: str, interp: Interpreter) -> int | None:
    """The best (lowest) priority of a wheel's tags for this interpreter, None if it cannot run."""
    parts = filename[:-4].split("-")
    if not filename.endswith(".whl") or len(parts) not in (5, 6):
        return None
    pythons, abis, platforms = (p.split(".") for p in parts[-3:])
    priority = interp.tag_priority
    ranks = [
        rank
        for py in pythons
        for abi in abis
        for plat in platforms
        if (rank := priority.get(f"{py}-{abi}-{plat}")) is not None
    ]
    return min(ranks) if ranks else None


def _matches_version(f: DistFile, version: str) -> bool:
    got = file_version(f.filename)
    return got is not None and canonicalize_version(got) == canonicalize_version(version)


def _hash_mismatch(version: str, expected: list[str], offered: list[str]) -> str:
    return (
        f"hash mismatch: no file of version {version} has the lock's hashes: "
        f"expected sha256 {', '.join(expected)}, got {', '.join(offered)} from the index"
    )


def choose_wheel(
    files: Iterable[DistFile], version: str, interp: Interpreter, hashes: Collection[str] = ()
) -> Choice:
    """The best wheel of `version` for `interp`; non-yanked first, then tag priority."""
    candidates = [f for f in files if _matches_version(f, version)]
    if not candidates:
        return Choice(None, f"version {version} is not on the index")
    if hashes:
        offered = sorted({f.sha256 for f in candidates if f.sha256})
        candidates = [f for f in candidates if f.sha256 is None or f.sha256 in hashes]
        if not candidates:
            return Choice(None, _hash_mismatch(version, sorted(hashes), offered))
    candidates = [f for f in candidates if python_ok(f.requires_python, interp.version)]
    if not candidates:
        return Choice(None, f"version {version} requires a Python other than {interp.version}")
    wheels = [
        (rank, f) for f in candidates if f.is_wheel and (rank := wheel_rank(f.filename, interp)) is not None
    ]
    if not wheels:
        kinds = "only a source distribution" if any(not f.is_wheel for f in candidates) else "no wheel"
        return Choice(None, f"{kinds} of {version} for this interpreter (Python {interp.version})")
    wheels.sort(key=lambda item: (item[1].yanked is not None, item[0], item[1].filename))
    best = wheels[0][1]
    return Choice(best, yanked_only=best.yanked is not None)


def matching_sdist(
    files: Iterable[DistFile], version: str, interp: Interpreter, hashes: Collection[str] = ()
) -> DistFile | None:
    """The source distribution of `version` to build when no wheel fits (non-yanked first)."""
    sdists = [
        f
        for f in files
        if not f.is_wheel
        and _matches_version(f, version)
        and python_ok(f.requires_python, interp.version)
        and (not hashes or f.sha256 is None or f.sha256 in hashes)
    ]
    sdists.sort(key=lambda f: (f.yanked is not None, not f.filename.endswith(".tar.gz")))
    return sdists[0] if sdists else None
