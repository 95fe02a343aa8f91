"""The actions behind `fetch:<pkg>` and `sync:<env>`: plain functions, callable without doit."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.config import effective_indexes
from tasks.interpreter import probe_env
from tasks.pipeline import EnvJob, PinJob
from tasks.sources import RegistrySource
from tasks.syncplan import Plan, plan_sync, wanted_from_values
from tasks.syncquick import report
from tasks.venv import ensure_venv, installed_distributions, venv_python


def fetch_pin(pin: PinJob, cache: Path) -> dict[str, Any]:
    """Fetch one pin into the cache; the returned values are what `sync` installs."""
    from tasks.fetch import fetch_registry_wheel
    from tasks.sources_fetch import fetch_direct

    if not isinstance(pin.line.source, RegistrySource):
        return fetch_direct(pin, cache).as_values()
    version = pin.version
    assert version is not None  # require_pins guarantees it
    indexes = effective_indexes(list(pin.index_layers))
    fetched = fetch_registry_wheel(
        name=pin.name,
        version=version,
        hashes=pin.line.sha256s(),
        indexes=indexes,
        interp=pin.interp,
        cache=cache,
    )
    return fetched.as_values()


def sync_env(job: EnvJob, cache: Path, **pins: Mapping[str, Any]) -> None:
    """Make the environment equal the lock; prints what changed."""
    started = time.perf_counter()
    wanted = wanted_from_values(pins)
    path = job.spec.path
    assert job.interp is not None and path is not None
    created = ensure_venv(path, Path(job.interp.executable))
    interp = probe_env(path, job.interp.executable, cache / "interpreters-v0")
    sites = [Path(interp.paths["purelib"]), Path(interp.paths["platlib"])]
    plan = plan_sync(installed_distributions(sites), wanted)
    if not plan.is_empty:
        apply_plan(plan, interp.scheme(), str(venv_python(path)), path)
    report(job.spec.name, path, plan, created, time.perf_counter() - started)


def apply_plan(plan: Plan, scheme: dict[str, str], python: str, env: Path) -> None:
    from tasks.install import install_wheels, uninstall

    for have in [*plan.remove, *(old for old, _ in plan.replace)]:
        uninstall(have.dist_info, env)
    todo = [*plan.install, *(new for _, new in plan.replace)]
    install_wheels([(Path(w.unpacked), w.filename, w.direct_url) for w in todo], scheme, python)
