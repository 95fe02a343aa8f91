"""Planning a sync (pure): what to install, replace, remove and keep for an environment to equal a lock."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from tasks.envs.venv import Installed

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

# The environment's own installer is left alone when the lock does not name it (as pip-sync does).
PROTECTED = frozenset({"pip"})


@dataclass(frozen=True)
class Wanted:
    """A distribution the lock wants, with the wheel fetched for it."""

    name: NormalizedName
    version: str
    filename: str
    unpacked: str
    direct_url: dict[str, object] | None = None


@dataclass(frozen=True)
class Plan:
    install: tuple[Wanted, ...] = ()
    replace: tuple[tuple[Installed, Wanted], ...] = ()
    remove: tuple[Installed, ...] = ()
    keep: tuple[Installed, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.install or self.replace or self.remove)


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def same_distribution(have: Installed, want: Wanted) -> bool:
    """Equal when version and (for direct references) the source identity agree."""
    if not same_version(have.version, want.version):
        return False
    return _identity(have.direct_url) == _identity(want.direct_url)


def _identity(direct_url: Mapping[str, object] | None) -> tuple[object, ...] | None:
    if not direct_url:
        return None
    info = direct_url.get("archive_info") or direct_url.get("vcs_info") or direct_url.get("dir_info") or {}
    assert isinstance(info, dict)
    detail = info.get("commit_id") or info.get("hash") or (info.get("hashes") and str(info.get("hashes")))
    ours = direct_url.get("wheelwright")  # a local directory's content revision
    revision = ours.get("revision") if isinstance(ours, dict) else None
    settings = json.dumps(ours.get("config_settings"), sort_keys=True) if isinstance(ours, dict) else None
    editable = bool(info.get("editable"))  # `-e` dropped or added: replaced, even at the same revision
    return (direct_url.get("url"), direct_url.get("subdirectory"), detail, revision, editable, settings)


def plan_sync(installed: Mapping[NormalizedName, Installed], wanted: Mapping[NormalizedName, Wanted]) -> Plan:
    """An incomplete distribution (no RECORD: an install cut short) is replaced even when equal."""
    install, replace, keep = [], [], []
    for name, want in sorted(wanted.items()):
        have = installed.get(name)
        if have is None:
            install.append(want)
        elif have.complete and same_distribution(have, want):
            keep.append(have)
        else:
            replace.append((have, want))
    remove = [d for n, d in sorted(installed.items()) if n not in wanted and n not in PROTECTED]
    return Plan(tuple(install), tuple(replace), tuple(remove), tuple(keep))


def wanted_from_values(pins: Mapping[str, Mapping[str, Any]]) -> dict[NormalizedName, Wanted]:
    """What the lock wants, from the fetch tasks' saved values (doit getargs)."""
    from tasks.core.errors import InstallError

    missing = [key for key, values in pins.items() if not values or "name" not in values]
    if missing:
        raise InstallError(f"{len(missing)} package(s) were not fetched; environment left as it was")
    wanted = {}
    for values in pins.values():
        want = Wanted(
            name=values["name"],
            version=values["version"],
            filename=values["filename"],
            unpacked=values["unpacked"],
            direct_url=values.get("direct_url"),
        )
        wanted[want.name] = want
    return wanted
