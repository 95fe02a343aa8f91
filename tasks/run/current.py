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

VARIABLES = (
    "req", "venv", "python", "cache", "config", "out", "upgrade", "hashes", "pkg", "timeout", "link",
    "remote_cache",
    *("quiet", "dry", "check", "report", "offline", "verbose"),
)  # fmt: skip
# How the run shows and acts, not what it plans: left out of the outline memo's key.
MODES = frozenset({"quiet", "dry", "check", "report", "offline", "verbose", "remote_cache"})

_lock = threading.Lock()


def variables() -> dict[str, str]:
    """The `key=value` words given on the command line."""
    return {k: v for k in VARIABLES if (v := get_var(k, None))}


def asked_for(task: str) -> bool:
    """Whether the command line names `task` (or its group) itself, as `./doit build_meta:pkg` does."""
    import sys

    words = [w for w in sys.argv[1:] if "=" not in w and not w.startswith("-")]
    return task in words or task.partition(":")[0] in words


def flag(name: str) -> bool:
    """A yes/no variable (`dry=1`, `offline=yes`); `offline` is also on with pip's PIP_NO_INDEX."""
    value = (get_var(name, None) or "").strip().lower()
    if name == "offline" and not value:
        return _pip_no_index()
    return value not in ("", "0", "false", "no", "off")


def _pip_no_index() -> bool:
    """PIP_NO_INDEX=1 with no find-links: nothing could be fetched, so the run is offline."""
    import os

    no_index = os.environ.get("PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes", "on")
    return no_index and not os.environ.get("PIP_FIND_LINKS", "").strip()


def _shaping() -> dict[str, str]:
    return {k: v for k, v in variables().items() if k not in MODES}


@functools.cache
def pipeline() -> Pipeline:
    from tasks.inputs.config import load_pipeline
    from tasks.source.remote import configure

    loaded = load_pipeline(variables())
    configure(loaded.remote_cache)  # the shared build cache, if any, for this process's builds
    return loaded


@functools.cache
def outline() -> Outline:
    """The task outline: from the memo when its inputs are unchanged, else planned afresh."""
    memo = load_memo(_shaping())
    if memo is not None:
        return memo
    from tasks.run.model import outline_of  # parses the locks: off the no-op path

    planned, inputs = outline_of(pipeline(), list(full_jobs()))
    fresh = without_credentials(planned)  # the same keys whether planned or read from the memo
    if not any(env.error for env in fresh.envs):
        save_memo(_shaping(), fresh, inputs)
    return fresh


def refresh_outline() -> None:
    """After a sync: when it changed what the memo watches (it made the environment, a pin's file
    became known), plan the outline again now, so that the next run (CI's rerun) reuses it."""
    with _lock:
        if load_memo(_shaping()) is not None:
            return
        from tasks.run.model import outline_of, plan_run  # only after a sync that changed something

        planned, inputs = outline_of(pipeline(), plan_run(pipeline()))
        fresh = without_credentials(planned)
        if not any(env.error for env in fresh.envs):
            save_memo(_shaping(), fresh, inputs)


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

    from tasks.source.kinds import build_source  # not tasks.source.build: a check needs no builder

    pins = {job.task_names[p.name]: p for job in full_jobs() for p in job.pins if p.line.source.needs_build}
    offline = flag("offline")

    def check(pin: PinJob) -> str | None:
        if offline and pin.line.source.kind != "path":  # a local tree's digest needs no network
            return pin.line.source.offline_revision(pin.line.sha256s())
        try:
            return build_source(pin.name, pin.line.source, cache_root(), hashes=pin.line.sha256s()).revision()
        except Exception:  # the task's own action reports the error
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {task: pool.submit(check, pin) for task, pin in pins.items()}
    return {task: future.result() for task, future in futures.items()}


def recorded_revision(task: str) -> str | None:
    """An index sdist's revision, its sha256 as its first fetch recorded it: no request, no lock parsed."""
    from tasks.run.chosen import recall

    pin = next((p for p in outline().pins if p.task == task), None)
    file = recall(cache_root(), pin.choice_key or pin.key) if pin is not None else None
    return file.sha256 if file is not None and not file.is_wheel else None
