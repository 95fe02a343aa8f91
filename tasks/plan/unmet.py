"""Installed distributions whose requirements the environment does not meet (what `pip check` says).

Read after a sync that changed the environment, and by `check=1`; never on a no-op sync. Each
distribution's `Requires-Dist` is evaluated with the target interpreter's markers (extras that
nobody asked for are not evaluated, as pip check does).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tasks.core.names import NormalizedName
from tasks.envs.venv import Installed, metadata_headers


def requires_dist(dist_info: Path) -> list[str]:
    """The `Requires-Dist` values of a distribution's METADATA (its headers only)."""
    try:
        return [value for key, value in metadata_headers(dist_info) if key.lower() == "requires-dist"]
    except OSError:
        return []


def unmet(
    installed: Mapping[NormalizedName, Installed],
    requires: Mapping[NormalizedName, list[str]],
    markers: Mapping[str, str],
) -> list[str]:
    """One line per requirement an installed distribution has that the environment does not meet."""
    if not any(requires.get(name) for name in installed):
        return []  # nothing required: no requirement parser to load
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    lines = []
    environment = {**markers, "extra": ""}
    for name in sorted(installed):
        dist = installed[name]
        for text in requires.get(name, []):
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and not req.marker.evaluate(environment):
                continue
            have = installed.get(canonicalize_name(req.name))
            shown = str(req).split(";")[0].strip()
            if have is None:
                lines.append(f"{dist.name} {dist.version} requires {shown}, which is not installed")
            elif req.specifier and not req.specifier.contains(have.version, prereleases=True):
                found = f"{have.name} {have.version}"
                lines.append(f"{dist.name} {dist.version} requires {shown}, but {found} is installed")
    return lines


def unmet_in(sites: list[Path], markers: Mapping[str, str]) -> list[str]:
    """`unmet` for the environment whose site-packages are `sites`."""
    from tasks.envs.venv import installed_distributions

    installed = installed_distributions(sites)
    requires = {name: requires_dist(dist.dist_info) for name, dist in installed.items()}
    return unmet(installed, requires, markers)
