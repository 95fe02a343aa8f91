"""The run's outline (for naming tasks) and, only when an action runs, its full plan."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.outline import Outline, load_memo, save_memo
from tasks.stages.common import pipeline, variables

if TYPE_CHECKING:
    from tasks.pipeline import EnvJob, PinJob

_lock = threading.Lock()


@functools.cache
def outline() -> Outline:
    """The task outline: from the memo when its inputs are unchanged, else planned afresh."""
    memo = load_memo(variables())
    if memo is not None:
        return memo
    from tasks.pipeline import outline_of

    fresh, inputs = outline_of(pipeline(), list(full_jobs()))
    if not any(env.error for env in fresh.envs):
        save_memo(variables(), fresh, inputs)
    return fresh


def full_jobs() -> tuple[EnvJob, ...]:
    """Every environment's full plan (parses the locks); computed once, on first need."""
    with _lock:
        return _full_jobs()


@functools.cache
def _full_jobs() -> tuple[EnvJob, ...]:
    from tasks.pipeline import plan_run

    return tuple(plan_run(pipeline()))


def cache_root() -> Path:
    return Path(outline().cache)


def state_file() -> str:
    """doit's dependency state, kept with the cache so CI persists both (sqlite: safe to share)."""
    cache = cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    return str(cache / "doit-state.sqlite3")


def pin_job(task: str) -> PinJob:
    for job in full_jobs():
        for pin in job.pins:
            if job.task_names[pin.name] == task:
                return pin
    raise LookupError(task)


def env_job(name: str) -> EnvJob:
    return next(job for job in full_jobs() if job.spec.name == name)


def run_fetch(task: str) -> dict[str, Any]:
    """Action of `fetch:<task>`."""
    from tasks.syncrun import fetch_pin

    return fetch_pin(pin_job(task), cache_root())


def run_sync(env: str, **pins: Any) -> None:
    """Action of `sync:<env>`: a quick check of the environment first, the full plan if needed."""
    from tasks.syncquick import already_synced

    summary = next(e for e in outline().envs if e.name == env)
    if already_synced(summary.name, summary.path, summary.sites, pins):
        return
    from tasks.syncrun import sync_env

    sync_env(env_job(env), cache_root(), **pins)


def still_cached(task: Any, values: dict[str, Any]) -> bool:
    """doit `uptodate`: the wheel the last run fetched is still unpacked in the cache."""
    from tasks.archive import MARKER

    unpacked = values.get("unpacked")
    return isinstance(unpacked, str) and (Path(unpacked) / MARKER).is_file()


def run_lock(env: str) -> None:
    """Action of `lock:<env>`."""
    from tasks.lockrun import lock_env
    from tasks.stages.common import variables

    job = env_job(env)
    if job.interp is None:
        from tasks.errors import ConfigError

        raise ConfigError(job.error or f"{env}: no interpreter")
    options = variables()
    hashes = options.get("hashes", "1").lower() not in ("0", "false", "no")
    lock_env(job.spec, job.interp, cache_root(), upgrade=options.get("upgrade"), hashes=hashes)
