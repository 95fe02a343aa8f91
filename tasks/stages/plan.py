"""The run's outline (for naming tasks) and, only when an action runs, its full plan."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tasks.core.errors import WheelwrightError
from tasks.core.urls import scrub, scrub_text
from tasks.run.outline import Outline, load_memo, save_memo, without_credentials
from tasks.stages.common import pipeline, variables

if TYPE_CHECKING:
    from tasks.run.model import EnvJob, PinJob

_lock = threading.Lock()
_Action = TypeVar("_Action", bound=Callable[..., Any])


def secret_free(action: _Action) -> _Action:
    """An action whose doit values and error line carry no credentials (doit keeps values on disk)."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return scrub(action(*args, **kwargs))
        except WheelwrightError as exc:
            exc.args = tuple(scrub(list(exc.args)))
            exc.cause = scrub_text(exc.cause)
            exc.source = scrub_text(exc.source) if exc.source else exc.source
            exc.package = scrub_text(exc.package) if exc.package else exc.package
            raise

    return run  # type: ignore[return-value]


@functools.cache
def outline() -> Outline:
    """The task outline: from the memo when its inputs are unchanged, else planned afresh."""
    memo = load_memo(variables())
    if memo is not None:
        return memo
    from tasks.run.model import outline_of

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
    from tasks.run.model import plan_run

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


@secret_free
def run_fetch(task: str) -> dict[str, Any]:
    """Action of `fetch:<task>`: a wheel into the cache, or a source tree for the build tasks."""
    from tasks.run.model import needs_build

    pin = pin_job(task)
    if needs_build(pin.line.source):
        from tasks.source.build import source_tree, tree_values

        return tree_values(source_tree(pin.name, pin.line.source, cache_root(), hashes=pin.line.sha256s()))
    from tasks.run.sync import fetch_pin

    return fetch_pin(pin, cache_root())


def _indexes(pin: PinJob) -> Any:
    from tasks.inputs.config import effective_indexes

    return effective_indexes(list(pin.index_layers))


@secret_free
def run_build_meta(task: str, tree: dict[str, Any]) -> dict[str, Any]:
    """Action of `build_meta:<task>`: the source's metadata.json, built only when stale."""
    from tasks.source.build import metadata_of_tree, tree_from_values
    from tasks.source.builtcache import metadata_json

    pin, built = pin_job(task), tree_from_values(tree)
    metadata_of_tree(pin.name, built, pin.interp, _indexes(pin), cache_root())
    path = metadata_json(cache_root(), built.bucket)
    print(f"build_meta:{task}: {path}")
    return {"revision": built.revision, "metadata": str(path)}


@secret_free
def run_build_wheel(task: str, tree: dict[str, Any]) -> dict[str, Any]:
    """Action of `build_wheel:<task>`: a wheel for the target, reused or built (added or replacing)."""
    from tasks.source.build import fetched_wheel, tree_from_values, wheel_of_tree

    pin, built = pin_job(task), tree_from_values(tree)
    wheel = wheel_of_tree(pin.name, built, pin.interp, _indexes(pin), cache_root())
    return fetched_wheel(pin.name, built, wheel, cache_root()).as_values()


@functools.cache
def current_revisions() -> dict[str, str | None]:
    """Every built source's revision upstream, all checked at once (one round trip of wall time)."""
    from concurrent.futures import ThreadPoolExecutor

    from tasks.run.model import needs_build
    from tasks.source.build import current_revision

    pins = {job.task_names[p.name]: p for job in full_jobs() for p in job.pins if needs_build(p.line.source)}

    def check(pin: PinJob) -> str | None:
        try:
            return current_revision(pin.name, pin.line.source, cache_root(), pin.line.sha256s())
        except Exception:  # the task's own action reports the error
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {task: pool.submit(check, pin) for task, pin in pins.items()}
    return {task: future.result() for task, future in futures.items()}


def revision_unchanged(name: str) -> Any:
    """doit `uptodate`: the source's revision is the one the task last ran for."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        current = current_revisions().get(name)
        return current is not None and values.get("revision") == current

    return check


def path_exists(key: str) -> Any:
    """doit `uptodate`: the path the last run saved under `key` still exists."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        path = values.get(key)
        return isinstance(path, str) and Path(path).exists()

    return check


@secret_free
def run_sync(env: str, **pins: Any) -> None:
    """Action of `sync:<env>`: a quick check of the environment first, the full plan if needed."""
    from tasks.sync.quick import already_synced, link_mode

    link = link_mode(variables().get("link"))
    summary = next(e for e in outline().envs if e.name == env)
    if already_synced(summary.name, summary.path, summary.sites, pins):
        return
    from tasks.run.sync import sync_env

    sync_env(env_job(env), cache_root(), link=link, **pins)


def still_cached(task: Any, values: dict[str, Any]) -> bool:
    """doit `uptodate`: the wheel the last run fetched is still unpacked in the cache."""
    from tasks.wheels.unpacked import MARKER

    unpacked = values.get("unpacked")
    return isinstance(unpacked, str) and (Path(unpacked) / MARKER).is_file()


@secret_free
def run_lock(env: str) -> None:
    """Action of `lock:<env>`."""
    from tasks.run.lock import lock_env
    from tasks.stages.common import variables

    job = env_job(env)
    if job.interp is None:
        from tasks.core.errors import ConfigError

        raise ConfigError(job.error or f"{env}: no interpreter")
    options = variables()
    hashes = options.get("hashes", "1").lower() not in ("0", "false", "no")
    lock_env(job.spec, job.interp, cache_root(), upgrade=options.get("upgrade"), hashes=hashes)
