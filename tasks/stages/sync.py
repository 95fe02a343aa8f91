"""Stage `sync:<env>`: make each environment equal its lock, from the fetched wheels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.run.actions import FETCHED, run_sync
from tasks.run.context import flag, outline, variables
from tasks.run.outline import EnvOutline, PinOutline
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
        getargs = {} if flag("dry") or flag("check") else pin_args(env)
        yield {
            "name": env.name,
            "doc": env.doc,
            "actions": [(clean_failures(run_sync), [env.name, env_pins(env)])],
            "getargs": getargs,
            "task_dep": sorted({dep for dep, _ in getargs.values()}),
            "uptodate": [False],
            "verbosity": 2,
        }


def env_pins(env: EnvOutline) -> list[PinOutline]:
    """The environment's pins, in the order of its pin tasks (getargs `pin0`, `pin1`, …)."""
    by_task = {pin.task: pin for pin in outline().pins}
    return [by_task[task.partition(":")[2]] for task in env.pins]


def pin_args(env: EnvOutline) -> dict[str, tuple[str, None]]:
    """getargs for the wheel of each pin task (`build_wheel:<pkg>`, or `fetch:<pkg>` for a wheel), and,
    for an index pin whose kind was not known when the run was planned, its fetch's values too: sync
    installs those when the fetch found a wheel (its build tasks are then up to date and give none)."""
    getargs = {f"pin{i}": (task, None) for i, task in enumerate(env.pins)}
    unknown = {
        f"pin{i}{FETCHED}": (f"fetch:{pin.task}", None)
        for i, pin in enumerate(env_pins(env))
        if pin.known_kind is None
    }
    return getargs | unknown
