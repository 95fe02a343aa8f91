"""The actions the stages name: plain functions over this run's plan, callable without doit.

Each returns what doit keeps as the task's values (with credentials removed) and raises a
project error for a failure the user can act on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from tasks.core.errors import WheelwrightError
from tasks.core.eventkinds import MetadataReady
from tasks.core.events import emit
from tasks.core.urls import scrub, scrub_text
from tasks.run.context import (
    asked_for,
    cache_root,
    current_revisions,
    env_job,
    flag,
    network,
    outline,
    pin_job,
    refresh_memo,
    shared_store,
    variables,
)

if TYPE_CHECKING:
    from tasks.run.model import PinJob
    from tasks.run.outline import PinOutline
    from tasks.source.trees import Tree
    from tasks.wheels.registry import Fetched

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


def _refuse_dry(task: str) -> None:
    """dry=1 and check=1 change nothing: only `sync` knows how to say what it would do."""
    if flag("dry") or flag("check"):
        from tasks.core.errors import ConfigError

        raise ConfigError(f"{task}: dry=1 and check=1 work with sync only (this task writes to the cache)")


@secret_free
def run_fetch(task: str) -> dict[str, Any]:
    """Action of `fetch:<task>`: a wheel into the cache, or a source tree for the build tasks."""
    from tasks.run.values import to_values

    _refuse_dry(f"fetch:{task}")
    return to_values(_fetched(task, pin_job(task)))


def _fetched(task: str, pin: PinJob) -> Fetched | Tree:
    built = pin.known_kind == "sdist"  # a direct reference built from source (an index pin's: its fetch's)
    if flag("offline"):
        from tasks.run.offline import fetch_offline, refuse_tree

        if not built:
            return fetch_offline(pin, cache_root())
        refuse_tree(pin)
    if built:
        from tasks.run.degrade import raise_refused
        from tasks.source.build import source_tree

        revision = current_revisions().get(task)
        if revision is None:
            raise_refused(task)  # its remote is down and no cached build may stand in: that error
        hashes = pin.line.sha256s()
        return source_tree(
            pin.name, pin.line.source, cache_root(), network(), hashes=hashes, revision=revision
        )
    if not pin.line.source.direct:
        from tasks.run.fetch_pin import fetch_registry

        return fetch_registry(pin, cache_root())  # a wheel, or an sdist's tree for the build tasks
    from tasks.run.fetch_pin import fetch_pin

    return fetch_pin(pin, cache_root())


def _build_tree(pin: PinJob, tree: dict[str, Any] | None) -> Tree | None:
    """The tree a build task builds, with the pin's config_settings; None for an index wheel.

    An index pin's build tasks take no values from `fetch` (that would make them run whenever the
    fetch did, even for a wheel): they read the file the fetch recorded (`tasks.run.pinkind`).
    """
    from tasks.run.fetch_pin import registry_tree, with_settings
    from tasks.run.values import tree_from

    built = registry_tree(pin, cache_root()) if not pin.line.source.direct else tree_from(tree)
    return None if built is None else with_settings(built, pin)


@secret_free
def run_build_meta(task: str, tree: dict[str, Any] | None = None) -> dict[str, Any]:
    """Action of `build_meta:<task>`: the source's metadata.json, built only when stale."""
    from tasks.run.values import BuiltMetadata, WheelPassed, to_values
    from tasks.source.build import metadata_of_tree
    from tasks.source.builtcache import metadata_json

    _refuse_dry(f"build_meta:{task}")
    pin = pin_job(task)
    built = _build_tree(pin, tree)
    if built is None:  # an index wheel: its metadata is the wheel's own, nothing to build
        return to_values(WheelPassed())
    metadata_of_tree(
        pin.name, built, pin.interp, pin.indexes, cache_root(), net=network(), store=shared_store()
    )
    path = metadata_json(cache_root(), built.bucket)
    # printed when the user asked for it; a sync's own build_meta says nothing
    shown: Literal["asked"] | None = "asked" if asked_for(f"build_meta:{task}") else None
    emit(MetadataReady(task=f"build_meta:{task}", package=pin.name, path=str(path), message=shown))
    return to_values(BuiltMetadata(built.revision, str(path)))


@secret_free
def run_build_wheel(task: str, tree: dict[str, Any] | None = None) -> dict[str, Any]:
    """Action of `build_wheel:<task>`: a wheel for the target, reused or built (added or replacing)."""
    from tasks.run.fetch_pin import built_wheel
    from tasks.run.values import to_values
    from tasks.source.build import fetched_wheel

    _refuse_dry(f"build_wheel:{task}")
    pin = pin_job(task)
    built = _build_tree(pin, tree)
    if built is None:  # an index wheel: the fetched wheel itself, passed through
        from tasks.run.fetch_pin import fetch_registry

        return to_values(fetch_registry(pin, cache_root()))
    wheel = built_wheel(pin, built, cache_root())
    return to_values(fetched_wheel(pin.name, built, wheel, cache_root()))


@secret_free
def run_sync(env: str, outlined: Sequence[PinOutline], **pins: Any) -> None:
    """Action of `sync:<env>`: a quick check of the environment first, the full plan if needed."""
    from tasks.plan.noop import already_synced, link_mode

    link = link_mode(variables().get("link"))
    summary = next(e for e in outline().envs if e.name == env)
    pins = installable(pins, outlined)
    if flag("dry") or flag("check"):
        from tasks.run.dry import dry_sync

        return dry_sync(env_job(env), cache_root(), summary.sites, check=flag("check"))
    from tasks.run.early_noop import remember  # for the next run: a no-op decided before doit starts

    if already_synced(summary.name, summary.path, summary.sites, pins):
        remember(summary, outlined, pins)
        return
    from tasks.run.sync_env import sync_env

    sync_env(env_job(env), cache_root(), link=link, **pins)
    refresh_memo()
    remember(summary, outlined, pins)


FETCHED = "_fetched"  # sync's getargs suffix: an index pin's fetch values, beside its build_wheel's


def installable(values: dict[str, Any], pins: Sequence[PinOutline]) -> dict[str, Any]:
    """The wheel of each pin (keyed `pin0`, `pin1`, … as `pins` are ordered): for an index pin whose kind
    was unknown when the run was planned, its fetch's wheel when it resolved to one (its build tasks then
    did nothing), else its own task's."""
    chosen = {}
    for i, pin in enumerate(pins):
        key = f"pin{i}"
        passed = key + FETCHED in values and _resolved_to_wheel(pin)
        chosen[key] = values[key + FETCHED] if passed else values.get(key)
    return chosen


def _resolved_to_wheel(pin: PinOutline) -> bool:
    from tasks.run.pinkind import (
        kind_of,  # reads the record (and imports the index's parsers): not on a no-op
    )

    return kind_of(cache_root(), pin) == "wheel"


@secret_free
def run_wheelhouse(env: str, outlined: Sequence[PinOutline], **pins: Any) -> None:
    """Action of `wheelhouse:<env>`: the environment's wheels and their index in `dir=DIR`."""
    import os
    from pathlib import Path

    from tasks.core.errors import ConfigError
    from tasks.run.values import wheel_from
    from tasks.run.wheelhouse import make_wheelhouse

    target = variables().get("dir")
    if not target:
        raise ConfigError("wheelhouse: give dir=DIR, the directory to fill with the wheels")
    dest = Path(os.environ.get("WHEELWRIGHT_CWD") or ".") / Path(target).expanduser()
    chosen = installable(pins, outlined)  # keyed pin0, pin1, … in the order of the env's pin tasks
    wheels = [wheel_from(chosen[f"pin{i}"]) for i in range(len(outlined))]
    make_wheelhouse(env_job(env), cache_root(), dest, wheels)


@secret_free
def run_lock(env: str) -> None:
    """Action of `lock:<env>`."""
    from tasks.run.lock_env import Mode, lock_env

    job = env_job(env)
    if job.interp is None:
        from tasks.core.errors import ConfigError

        raise ConfigError(job.error or f"{env}: no interpreter")
    options = variables()
    hashes = options.get("hashes", "1").lower() not in ("0", "false", "no")
    mode: Mode = "check" if flag("check") else "dry" if flag("dry") else "write"
    lock_env(
        job.spec,
        job.interp,
        cache_root(),
        upgrade=options.get("upgrade"),
        hashes=hashes,
        mode=mode,
        exclude_newer=options.get("exclude-newer") or job.spec.exclude_newer,
        net=network(),
        store=shared_store(),
    )


def run_cache_report() -> None:
    """Action of `cache`: the size and entry count of each bucket family."""
    from tasks.run.care.remove import report

    report(cache_root())


def run_prune() -> None:
    """Action of `prune`: remove what nothing can use any more (`days=`, `ci=1`, `max-size=`); with
    `remote=1`, from the shared build cache instead (`days=`, `max-size=`)."""
    from tasks.run.care.options import policy_from_variables
    from tasks.run.care.remove import prune

    policy = policy_from_variables()
    if flag("remote"):
        return _prune_remote(policy.days, policy.max_size)
    prune(cache_root(), policy)


def _prune_remote(days: float | None, max_size: int | None) -> None:
    import time

    from tasks.core.errors import ConfigError
    from tasks.core.objectstore import StoreFault, open_store
    from tasks.source.remote_prune import prune_store

    location = shared_store().configured()  # made from the configuration now (a memo'd run has not read it)
    if location is None:
        raise ConfigError(
            "prune remote=1: no shared build cache (remote_cache=URL or remote-cache: in pipeline.yaml)"
        )
    try:
        prune_store(open_store(location.url), days, max_size, time.time())
    except StoreFault as exc:
        raise ConfigError(f"remote cache {location}: {exc}") from None
