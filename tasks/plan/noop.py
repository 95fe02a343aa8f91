"""The no-op check of `sync`: is the environment already equal to the fetched pins? (light imports)"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.core.errors import ConfigError, InstallError
from tasks.core.eventkinds import Change, DistInstalled, DistRemoved, SyncSummary
from tasks.core.events import emit
from tasks.envs.venv import installed_distributions
from tasks.plan.planner import Plan, plan_sync, wanted_from_values

LINK_MODES = ("hardlink", "copy", "symlink")  # how files get from the cache into an environment


def link_mode(value: str | None) -> str:
    """The `link=` variable checked (default: hardlink)."""
    mode = (value or "hardlink").strip().lower()
    if mode not in LINK_MODES:
        raise ConfigError(f"link={value}: expected one of {', '.join(LINK_MODES)}")
    return mode


def already_synced(name: str, path: str, sites: list[str], pins: Mapping[str, Mapping[str, Any]]) -> bool:
    """True (and the summary reported) when nothing needs installing, replacing or removing."""
    if not sites or not (Path(path) / "pyvenv.cfg").exists():
        return False
    started = time.perf_counter()
    try:
        wanted = wanted_from_values(pins)
    except InstallError:
        return False
    plan = plan_sync(installed_distributions([Path(s) for s in sites]), wanted)
    if not plan.is_empty:
        return False
    report(name, Path(path), plan, False, time.perf_counter() - started)
    return True


def report(
    name: str,
    path: Path,
    plan: Plan,
    created: bool,
    seconds: float,
    phases: tuple[tuple[str, float], ...] = (),
    dry: bool = False,
) -> None:
    """The sync's result, as one `summary` event (the console shows its counts and plan lines)."""
    emit(
        SyncSummary(
            task=name,
            path=str(path),
            changes=changes(plan),
            count=len(plan.keep),
            created=created,
            seconds=seconds,
            phases=phases,
            dry=dry,
        )
    )


def changes(plan: Plan) -> tuple[Change, ...]:
    """The plan's installs, replacements and removals, in the order the console lists them."""
    return (
        *(Change("install", w.name, version=w.version) for w in plan.install),
        *(Change("replace", old.name, version=new.version, old=old.version) for old, new in plan.replace),
        *(Change("remove", old.name, old=old.version) for old in plan.remove),
    )


def applied(plan: Plan, env: Path) -> None:
    """`removed` and `installed` events for a plan just carried out in `env` (nothing on the console)."""
    for old in [*plan.remove, *(old for old, _ in plan.replace)]:
        emit(DistRemoved(package=old.name, version=old.version, path=str(env)))
    for new in [*plan.install, *(new for _, new in plan.replace)]:
        emit(DistInstalled(package=new.name, version=new.version, filename=new.filename, path=str(env)))
