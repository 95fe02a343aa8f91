"""`dry=1` and `check=1`: what a sync would download, build, install, replace and remove; nothing changed.

Decided from the lock and the cache alone: no request, no venv, no cache entry. An index pin is
"in the cache" when one of its `--hash` values is unpacked there; a direct reference is taken as
installed when the environment holds the same URL (and, when the lock names it, the same
commit or sha256); its remote revision is not checked, and the summary says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from tasks.core.errors import EnvironmentDiffers
from tasks.core.eventkinds import Differs, Planned
from tasks.core.events import emit
from tasks.core.names import NormalizedName
from tasks.envs.venv import Installed
from tasks.plan.noop import changes, report
from tasks.plan.planner import Plan, Wanted, plan_sync, same_version
from tasks.run.model import EnvJob, PinJob

UNKNOWN = "?"  # the version of a source not built yet


def dry_sync(job: EnvJob, cache: Path, sites: list[str], check: bool) -> None:
    """Report what `sync` would do for `job`; with `check`, fail when it would do anything."""
    started = time.perf_counter()
    path = job.spec.path
    assert path is not None
    exists = (path / "pyvenv.cfg").exists()
    have = _installed(sites) if exists else {}
    wanted = {pin.name: _wanted(pin, have.get(pin.name), cache) for pin in job.pins}
    plan = plan_sync(have, wanted)
    seconds = time.perf_counter() - started
    report(job.spec.name, path, plan, not exists, seconds, (("resolve", seconds),), dry=True)
    if check and not plan.is_empty:
        emit(Differs(task=job.spec.name, path=str(path), changes=changes(plan)))
        raise EnvironmentDiffers(_differs(plan, path, exists), package=job.spec.name)
    if check and exists and job.interp is not None:
        from tasks.run.sync_env import warn_unmet

        missing = warn_unmet([Path(s) for s in sites], job.interp.markers)
        if missing:
            raise EnvironmentDiffers(
                f"{path}: {len(missing)} requirement(s) of installed distributions not met",
                package=job.spec.name,
            )


def _differs(plan: Plan, path: Path, exists: bool) -> str:
    counts = f"{len(plan.install)} to install, {len(plan.replace)} to replace, {len(plan.remove)} to remove"
    return f"{path} differs from the lock ({counts})" + ("" if exists else "; it does not exist")


def _installed(sites: list[str]) -> dict[NormalizedName, Installed]:
    from tasks.envs.venv import installed_distributions

    return dict(installed_distributions([Path(s) for s in sites]))


def _wanted(pin: PinJob, have: Installed | None, cache: Path) -> Wanted:
    """What the lock wants for `pin`, and a `planned` event when getting it needs a download or a build."""
    source = pin.line.source
    if not source.direct:
        version = pin.version or UNKNOWN
        cached = _unpacked(pin, cache)
        if cached is None and not (have and same_version(have.version, version)):
            emit(Planned(package=pin.name, version=version, message="download", source="index"))
        return Wanted(pin.name, version, "", cached or "")
    revision = source.offline_revision(pin.line.sha256s())
    wanted_url = source.direct_url(revision or "")
    if have is not None and _same_source(have, wanted_url, revision):
        return Wanted(pin.name, have.version, "", "", have.direct_url)
    what: Literal["build", "download"] = "build" if pin.known_kind == "sdist" else "download"
    emit(Planned(package=pin.name, version=UNKNOWN, message=what, source=source.describe()))
    return Wanted(pin.name, UNKNOWN, "", "", wanted_url)


def _unpacked(pin: PinJob, cache: Path) -> str | None:
    from tasks.wheels.unpacked import is_unpacked, unpacked_path

    found = (unpacked_path(cache, sha) for sha in sorted(pin.line.sha256s()))
    return next((str(p) for p in found if is_unpacked(p)), None)


def _same_source(have: Installed, wanted: dict[str, object] | None, revision: str | None) -> bool:
    """The installed distribution came from the lock's URL (and revision, when the lock pins one)."""
    if not wanted or not have.direct_url or have.direct_url.get("url") != wanted.get("url"):
        return False
    return revision is None or revision in str(have.direct_url)
