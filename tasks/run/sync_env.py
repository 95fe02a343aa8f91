"""The action behind `sync:<env>`: make an environment equal its lock file (plain functions, no doit).

Holding the environment's mutex (one sync of it at a time, `tasks.core.mutexes`): create the venv if
needed, plan (`tasks.plan.planner`), remove then install, and report the summary; then, when anything
changed, warn about unmet requirements. A cache entry found damaged, before or while installing, is
evicted, fetched again (`tasks.run.fetch_pin`) and installed in the same run.

`sync_into` is that sync with no plan of the run behind it: the environment's name, path and
interpreter, and what fetches a pin again (None: nothing can be fetched here, so a damaged entry fails
it). `sync_env` (doit's action) and the warm sync decided before doit (`tasks.run.early_noop`) both
go through it; neither the run model nor the fetchers are imported until an entry needs fetching.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.errors import InstallError
from tasks.core.eventkinds import Installing
from tasks.core.events import emit
from tasks.core.mutexes import venv_lock
from tasks.core.names import NormalizedName
from tasks.envs.interpreter import probe_env
from tasks.envs.venv import ensure_venv, installed_distributions, venv_python
from tasks.plan.noop import applied, report
from tasks.plan.planner import Plan, Wanted, plan_sync, wanted_from_values

if TYPE_CHECKING:
    from tasks.run.model import EnvJob

# What fetches a pin again after its damaged entry was evicted: the pin's name → its task's values
# (None: the run has no such pin).
Refetch = Callable[[NormalizedName], Mapping[str, Any] | None]


def sync_env(job: EnvJob, cache: Path, link: str = "hardlink", **pins: Mapping[str, Any]) -> None:
    """Make the environment equal the lock; emits what changed. `link`: hardlink, copy or symlink."""
    path = job.spec.path
    assert job.interp is not None and path is not None
    sync_into(
        job.spec.name,
        path,
        job.interp.executable,
        cache,
        pins,
        link,
        lambda name: _fetch_again(job, cache, name),
    )


def sync_into(
    name: str,
    path: Path,
    python: str,
    cache: Path,
    pins: Mapping[str, Mapping[str, Any]],
    link: str = "hardlink",
    refetch: Refetch | None = None,
) -> Plan:
    """Make the environment `name` at `path` (made from `python` when missing) equal `pins` (the pin tasks'
    values); emits what changed and returns the plan it applied. `refetch`: see the module's docstring."""
    started = time.perf_counter()
    wanted = wanted_from_values(pins)
    with venv_lock(cache, path):  # one sync of an environment at a time, across processes
        created = ensure_venv(path, Path(python))
        interp = probe_env(path, python, cache / layout.INTERPRETERS.name)
        sites = [Path(interp.paths["purelib"]), Path(interp.paths["platlib"])]
        target = _Target(interp.scheme(), str(venv_python(path)), path, link)
        plan, phases = _install_healing(refetch, wanted, sites, target, started)
    report(name, path, plan, created, time.perf_counter() - started, phases)
    if not plan.is_empty:  # only a changed environment can have lost a requirement
        warn_unmet(sites, interp.markers)
    return plan


def _fetch_again(job: EnvJob, cache: Path, name: NormalizedName) -> Mapping[str, Any] | None:
    """The values of the job's pin `name`, fetched again (its cache entry was evicted)."""
    from tasks.run.fetch_pin import fetch_pin
    from tasks.run.values import to_values

    pin = next((p for p in job.pins if p.name == name), None)
    return None if pin is None else to_values(fetch_pin(pin, cache))


def warn_unmet(sites: list[Path], markers: Mapping[str, str]) -> list[str]:
    """One warning per installed distribution's requirement the environment does not meet."""
    from tasks.core.events import warn
    from tasks.plan.unmet import unmet_in

    lines = unmet_in(sites, markers)
    for line in lines:
        warn(line)
    return lines


def apply_plan(
    plan: Plan, scheme: dict[str, str], python: str, env: Path, link: str = "hardlink"
) -> tuple[tuple[str, float], ...]:
    """Remove, then install; a distribution without RECORD is removed by its wheel's own RECORD.

    Returns the seconds each phase took (`uninstall`, `install`).
    """
    from tasks.wheels.install import install_wheels
    from tasks.wheels.uninstall import uninstall

    todo = [*plan.install, *(new for _, new in plan.replace)]
    emit(Installing(path=str(env), count=len(todo) + len(plan.remove)))
    started = time.perf_counter()
    for have in plan.remove:
        uninstall(have.dist_info, env)
    for have, new in plan.replace:
        uninstall(have.dist_info, env, fallback_record=Path(new.unpacked) / have.dist_info.name / "RECORD")
    removed = time.perf_counter()
    install_wheels([(Path(w.unpacked), w.filename, w.direct_url) for w in todo], scheme, python, link=link)
    applied(plan, env)
    return (("uninstall", removed - started), ("install", time.perf_counter() - removed))


# --- a damaged cache entry: evicted, fetched again, installed in the same run -----------------


@dataclass(frozen=True)
class _Target:
    scheme: dict[str, str]
    python: str
    path: Path
    link: str


def _install_healing(
    refetch: Refetch | None,
    wanted: dict[NormalizedName, Wanted],
    sites: list[Path],
    target: _Target,
    started: float,
) -> tuple[Plan, tuple[tuple[str, float], ...]]:
    """Apply the plan; entries found damaged, before or while installing, are fetched again (once).

    Returns the first plan and the seconds per phase (`resolve`: from `started` to the plan).
    """
    from tasks.core.errors import CacheEntryDamaged

    first = plan_sync(installed_distributions(sites), wanted)
    resolved = (("resolve", time.perf_counter() - started),)
    if first.is_empty:
        return first, resolved
    wanted = _refetched(refetch, wanted, _damaged([*first.install, *(n for _, n in first.replace)]))
    for retry in (False, True):
        plan = plan_sync(installed_distributions(sites), wanted)
        try:
            phases = apply_plan(plan, target.scheme, target.python, target.path, target.link)
            break
        except CacheEntryDamaged as exc:
            hit = [w for w in wanted.values() if w.unpacked == exc.entry]
            if retry or not hit:
                raise
            wanted = _refetched(refetch, wanted, [(w, exc.cause) for w in hit])
    return first, resolved + phases


def _damaged(todo: list[Wanted]) -> list[tuple[Wanted, str]]:
    """The wheels to install whose cache entry changed since it was unpacked (one stat a file, in threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from tasks.wheels.unpacked import entry_damage

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(zip(todo, pool.map(lambda want: entry_damage(Path(want.unpacked)), todo), strict=True))
    return [(want, damage) for want, damage in found if damage is not None]


def _refetched(
    refetch: Refetch | None, wanted: dict[NormalizedName, Wanted], damaged: list[tuple[Wanted, str]]
) -> dict[NormalizedName, Wanted]:
    """`wanted` after evicting each damaged entry and fetching its pin again.

    Each entry is checked once more just before it is evicted: another run may have remade it.
    """
    from tasks.wheels.unpacked import entry_damage, evict

    healed = dict(wanted)
    for want, damage in damaged:
        if refetch is None:
            raise InstallError(
                f"damaged cache entry ({damage}) and nothing here to fetch it", package=want.name
            )
        if entry_damage(Path(want.unpacked)) is not None:
            evict(Path(want.unpacked), damage)
        values = refetch(want.name)
        if values is None:
            raise InstallError(f"damaged cache entry ({damage}) with no pin to fetch", package=want.name)
        healed.update(wanted_from_values({want.name: values}))
    return healed
