"""Stage `sync:<env>`: make each environment equal its lock, from the fetched wheels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.run.actions import FETCHED, run_sync
from tasks.run.current import flag, outline, variables
from tasks.stages.common import clean_failures, failing_task

DOC = "make an environment equal its lock (req=FILE venv=DIR, or pipeline.yaml)"


# What a task that installs every pin becomes under `shard=K/N` (only one shard's build tasks exist).
SHARD_REFUSED = failing_task("shard", "shard=K/N splits builds only: run `build_wheel shard=K/N`", DOC)


def task_sync() -> Iterator[dict[str, Any]]:
    """Make each environment equal its lock exactly (install, replace, remove)."""
    envs = outline().envs
    if variables().get("shard"):  # the build tasks are one shard's only: a sync runs without shard=
        yield SHARD_REFUSED
        return
    if not envs:
        yield failing_task("none", "no environments: add pipeline.yaml or give req=FILE venv=DIR", DOC)
        return
    for env in envs:
        if env.error:
            yield failing_task(env.name, env.error, DOC)
            continue
        # a dry run decides from the lock and the cache: no fetch or build task runs before it
        getargs = {} if flag("dry") or flag("check") else pin_args(env.pins)
        yield {
            "name": env.name,
            "doc": env.doc,
            "actions": [(clean_failures(run_sync), [env.name])],
            "getargs": getargs,
            "task_dep": sorted({dep for dep, _ in getargs.values()}),
            "uptodate": [False],
            "verbosity": 2,
        }


def pin_args(pins: tuple[str, ...] | list[str]) -> dict[str, tuple[str, None]]:
    """getargs for the wheel of each pin task (`build_wheel:<pkg>`, or `fetch:<pkg>` for an index wheel)."""
    getargs = {f"pin{i}": (task, None) for i, task in enumerate(pins)}
    return getargs | _unknown_index_pins(getargs)


def _unknown_index_pins(getargs: dict[str, tuple[str, None]]) -> dict[str, tuple[str, None]]:
    """An index pin whose file was not known when the run was planned: its fetch's values too, which
    sync installs when the fetch found a wheel (its build tasks are then up to date and give none)."""
    unknown = {f"build_wheel:{p.task}" for p in outline().pins if p.registry and not p.chosen}
    return {
        key + FETCHED: ("fetch:" + task.removeprefix("build_wheel:"), None)
        for key, (task, _) in getargs.items()
        if task in unknown
    }
