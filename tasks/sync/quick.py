"""The no-op check of `sync`: is the environment already equal to the fetched pins? (light imports)"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.core.errors import ConfigError, InstallError
from tasks.sync.plan import Plan, plan_sync, wanted_from_values
from tasks.target.venv import installed_distributions

LINK_MODES = ("hardlink", "copy", "symlink")  # how files get from the cache into an environment


def link_mode(value: str | None) -> str:
    """The `link=` variable checked (default: hardlink)."""
    mode = (value or "hardlink").strip().lower()
    if mode not in LINK_MODES:
        raise ConfigError(f"link={value}: expected one of {', '.join(LINK_MODES)}")
    return mode


def already_synced(name: str, path: str, sites: list[str], pins: Mapping[str, Mapping[str, Any]]) -> bool:
    """True (and the summary printed) when nothing needs installing, replacing or removing."""
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


def report(name: str, path: Path, plan: Plan, created: bool, seconds: float) -> None:
    lines = [f" + {w.name}=={w.version}" for w in plan.install]
    lines += [f" ~ {old.name} {old.version} -> {new.version}" for old, new in plan.replace]
    lines += [f" - {old.name}=={old.version}" for old in plan.remove]
    for line in lines:
        print(line)
    made = " (created)" if created else ""
    print(
        f"{name}: {path}{made}: {len(plan.install)} installed, {len(plan.replace)} replaced, "
        f"{len(plan.remove)} removed, {len(plan.keep)} unchanged in {seconds:.2f}s"
    )
    sys.stdout.flush()
