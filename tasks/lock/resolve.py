"""Resolving requirements into pins: the entry point the lock stage and build environments call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from tasks.core.errors import ResolutionError
from tasks.core.http import Network
from tasks.envs.interpreter import Interpreter
from tasks.index.pages import DistFile
from tasks.inputs.config import Indexes
from tasks.inputs.reqline import ReqLine
from tasks.inputs.sources import Source
from tasks.lock.deps import Req
from tasks.lock.finder import Finder, SourceMetadata
from tasks.lock.provider import Provider, Resolution, ResolvedPin, run_resolver

__all__ = ["Resolution", "ResolvedPin", "SourceMetadata", "resolve"]


def resolve(
    requirements: Sequence[ReqLine],
    *,
    constraints: Sequence[ReqLine] = (),
    interp: Interpreter,
    indexes: Indexes,
    cache: Path,
    preferences: Mapping[NormalizedName, str] | None = None,
    upgrade: bool | frozenset[NormalizedName] = False,
    source_metadata: SourceMetadata | None = None,
    allow_sdists: bool = True,
    exclude_newer: datetime | None = None,
    net: Network | None = None,
) -> Resolution:
    """Pins for `requirements` on the target interpreter, newest first, lock pins kept unless upgraded.

    `exclude_newer` leaves out every file uploaded after it (PEP 700 `upload-time`). Index pages and
    wheel metadata come through `net` (the run's; by default a network of this resolution's own).
    """
    preferred = _preferences(preferences or {}, upgrade)
    finder = make_finder(
        interp, indexes, cache, source_metadata, allow_sdists, upgrade, preferred, net=net or Network()
    )
    finder.exclude_newer = exclude_newer
    env = {**interp.markers, "extra": ""}
    lines = [
        line
        for line in requirements
        if line.requirement.marker is None or line.requirement.marker.evaluate(env)
    ]
    provider = Provider(
        finder,
        interp.markers,
        constraints=_constraints(constraints, env),
        preferences=preferred,
        direct=_direct(lines),
        pre=indexes.pre,
        prefer_binary=indexes.prefer_binary,
        yanked_ok=_constraints([*lines, *constraints], env),
    )
    reqs = [_req(line) for line in lines]
    finder.prefetch((r.name, r.extras) for r in reqs if r.source is None)
    try:
        return run_resolver(provider, reqs)
    finally:
        finder.close()


def make_finder(
    interp: Interpreter,
    indexes: Indexes,
    cache: Path,
    source_metadata: SourceMetadata | None,
    allow_sdists: bool,
    refresh: bool | frozenset[NormalizedName] = False,
    preferences: Mapping[NormalizedName, Version] | None = None,
    *,
    net: Network,
) -> Finder:
    from tasks.index.pages import page_getter
    from tasks.index.wheelmeta import wheel_metadata

    def metadata_of(file: DistFile) -> dict[str, Any]:
        return wheel_metadata(file, cache, net)

    return Finder(
        indexes=indexes,
        interp=interp,
        cache=cache,
        get=page_getter(net, cache),
        wheel_metadata=metadata_of,
        source_metadata=source_metadata,
        allow_sdists=allow_sdists,
        refresh=refresh,
        preferences=preferences,
    )


def _req(line: ReqLine) -> Req:
    source = line.source if line.source.direct else None
    extras = frozenset(canonicalize_name(e) for e in line.requirement.extras)
    return Req(line.name, line.requirement.specifier, extras, source, str(line.requirement))


def _direct(lines: Sequence[ReqLine]) -> dict[NormalizedName, Source]:
    direct: dict[NormalizedName, Source] = {}
    for line in lines:
        if not line.source.direct:
            continue
        if line.name in direct and direct[line.name] != line.source:
            raise ResolutionError("two different direct references", package=line.name)
        direct[line.name] = line.source
    return direct


def _constraints(lines: Sequence[ReqLine], env: dict[str, str]) -> dict[NormalizedName, SpecifierSet]:
    found: dict[NormalizedName, SpecifierSet] = {}
    for line in lines:
        marker = line.requirement.marker
        if marker is None or marker.evaluate(env):
            found[line.name] = found.get(line.name, SpecifierSet()) & line.requirement.specifier
    return found


def _preferences(
    pins: Mapping[NormalizedName, str], upgrade: bool | frozenset[NormalizedName]
) -> dict[NormalizedName, Version]:
    if upgrade is True:
        return {}
    skip = upgrade if isinstance(upgrade, frozenset) else frozenset()
    found = {}
    for name, version in pins.items():
        if name in skip:
            continue
        try:
            found[name] = Version(version)
        except InvalidVersion:
            continue
    return found
