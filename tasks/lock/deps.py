"""A candidate's requirements as the resolver sees them: Requires-Dist evaluated for the target (pure)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from tasks.inputs.sources import Source


@dataclass(frozen=True)
class Req:
    """A requirement as the resolver sees it (markers already evaluated)."""

    name: NormalizedName
    specifier: SpecifierSet
    extras: frozenset[str] = frozenset()
    source: Source | None = None  # a direct reference
    text: str = ""

    @property
    def key(self) -> str:
        return identifier(self.name, self.extras)


def identifier(name: str, extras: frozenset[str]) -> str:
    """The resolver's identifier of a project with extras: `name[a,b]`, or `name` alone."""
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def dependencies_of(metadata: Mapping[str, Any], extras: frozenset[str], env: Mapping[str, str]) -> list[Req]:
    """The Requires-Dist entries that apply to the target, for the given extras (pure)."""
    found = []
    for line in metadata.get("requires-dist", []):
        req = _parse_requirement(line)
        if req is None:
            continue
        if req.marker is not None and not _marker_applies(req.marker, extras, env):
            continue
        found.append(_req(req))
    return found


@functools.lru_cache(maxsize=8192)
def _parse_requirement(line: str) -> Requirement | None:
    try:
        return Requirement(line)
    except InvalidRequirement:
        return None  # pip skips what it cannot parse, too


def _marker_applies(marker: Marker, extras: frozenset[str], env: Mapping[str, str]) -> bool:
    return any(marker.evaluate({**env, "extra": extra}) for extra in (extras or {""}))


def _req(req: Requirement) -> Req:
    name = canonicalize_name(req.name)
    return Req(name, req.specifier, frozenset(canonicalize_name(e) for e in req.extras), None, str(req))
