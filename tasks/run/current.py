"""This process's run: the command line's variables, the outline (for naming tasks) and, only when an
action or check needs it, the full plan and every built source's revision, each computed once."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from doit import get_var

from tasks.run.outline import Outline, load_memo, save_memo, without_credentials

if TYPE_CHECKING:
    from tasks.inputs.config import Pipeline
    from tasks.run.model import EnvJob, PinJob

VARIABLES = ("req", "venv", "python", "cache", "config", "out", "upgrade", "hashes", "pkg", "timeout", "link")

_lock = threading.Lock()


def variables() -> dict[str, str]:
    """The `key=value` words given on the command line."""
    return {k: v for k in VARIABLES if (v := get_var(k, None))}


@functools.cache
def pipeline() -> Pipeline:
    from tasks.inputs.config import load_pipeline

    return load_pipeline(variables())


@functools.cache
def outline() -> Outline:
    """The task outline: from the memo when its inputs are unchanged, else planned afresh."""
    memo = load_memo(variables())
    if memo is not None:
        return memo
    from tasks.run.model import outline_of  # parses the locks: off the no-op path

    planned, inputs = outline_of(pipeline(), list(full_jobs()))
    fresh = without_credentials(planned)  # the same keys whether planned or read from the memo
    if not any(env.error for env in fresh.envs):
        save_memo(variables(), fresh, inputs)
    return fresh


def full_jobs() -> tuple[EnvJob, ...]:
    """Every environment's full plan (parses the locks); computed once, on first need."""
    with _lock:
        return _full_jobs()


@functools.cache
def _full_jobs() -> tuple[EnvJob, ...]:
    from tasks.run.model import plan_run  # parses the locks: off the no-op path

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


@functools.cache
def current_revisions() -> dict[str, str | None]:
    """Every built source's revision upstream, all checked at once (one round trip of wall time).

    Computed once per run: doit's `uptodate` checks compare against it and the fetch actions
    build exactly that revision, so no source is checked upstream twice.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tasks.source.build import current_revision  # requests, GitPython: only when a source is built

    pins = {job.task_names[p.name]: p for job in full_jobs() for p in job.pins if p.line.source.needs_build}

    def check(pin: PinJob) -> str | None:
        try:
            return current_revision(pin.name, pin.line.source, cache_root(), pin.line.sha256s())
        except Exception:  # the task's own action reports the error
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {task: pool.submit(check, pin) for task, pin in pins.items()}
    return {task: future.result() for task, future in futures.items()}
