"""The actions the stages name: plain functions over this run's plan, callable without doit.

Each returns what doit keeps as the task's values (with credentials removed) and raises a
project error for a failure the user can act on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from tasks.core.errors import WheelwrightError
from tasks.core.events import Event, emit
from tasks.core.urls import scrub, scrub_text
from tasks.run.current import cache_root, current_revisions, env_job, outline, pin_job, variables

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


@secret_free
def run_fetch(task: str) -> dict[str, Any]:
    """Action of `fetch:<task>`: a wheel into the cache, or a source tree for the build tasks."""
    pin = pin_job(task)
    revision = current_revisions().get(task) if pin.line.source.needs_build else None
    if pin.line.source.needs_build:
        from tasks.source.build import source_tree, tree_values

        hashes = pin.line.sha256s()
        return tree_values(
            source_tree(pin.name, pin.line.source, cache_root(), hashes=hashes, revision=revision)
        )
    from tasks.run.fetch import fetch_pin

    return fetch_pin(pin, cache_root())


@secret_free
def run_build_meta(task: str, tree: dict[str, Any]) -> dict[str, Any]:
    """Action of `build_meta:<task>`: the source's metadata.json, built only when stale."""
    from tasks.source.build import metadata_of_tree, tree_from_values
    from tasks.source.builtcache import metadata_json

    pin, built = pin_job(task), tree_from_values(tree)
    metadata_of_tree(pin.name, built, pin.interp, pin.indexes, cache_root())
    path = metadata_json(cache_root(), built.bucket)
    emit(Event("metadata", task=f"build_meta:{task}", package=pin.name, path=str(path)))
    return {"revision": built.revision, "metadata": str(path)}


@secret_free
def run_build_wheel(task: str, tree: dict[str, Any]) -> dict[str, Any]:
    """Action of `build_wheel:<task>`: a wheel for the target, reused or built (added or replacing)."""
    from tasks.source.build import fetched_wheel, tree_from_values, wheel_of_tree

    pin, built = pin_job(task), tree_from_values(tree)
    wheel = wheel_of_tree(pin.name, built, pin.interp, pin.indexes, cache_root())
    return fetched_wheel(pin.name, built, wheel, cache_root()).as_values()


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


@secret_free
def run_lock(env: str) -> None:
    """Action of `lock:<env>`."""
    from tasks.run.lock import lock_env

    job = env_job(env)
    if job.interp is None:
        from tasks.core.errors import ConfigError

        raise ConfigError(job.error or f"{env}: no interpreter")
    options = variables()
    hashes = options.get("hashes", "1").lower() not in ("0", "false", "no")
    lock_env(job.spec, job.interp, cache_root(), upgrade=options.get("upgrade"), hashes=hashes)
