"""Stage `wheelhouse:<env>`: every wheel an environment's lock needs, with a PEP 503 index, in `dir=DIR`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.run.actions import run_wheelhouse
from tasks.run.context import outline, variables
from tasks.stages.common import clean_failures, failing_task
from tasks.stages.sync import SHARD_REFUSED, env_pins, pin_args

DOC = "copy every wheel of an environment's lock into dir=DIR, with a simple index (pip --no-index -f DIR)"


def task_wheelhouse() -> Iterator[dict[str, Any]]:
    """Every wheel an environment's lock needs, for its target, in dir=DIR with a PEP 503 index."""
    if variables().get("shard"):
        yield SHARD_REFUSED
        return
    for env in outline().envs:
        if env.error:
            yield failing_task(env.name, env.error, DOC)
            continue
        getargs = pin_args(env)
        yield {
            "name": env.name,
            "doc": DOC,
            "actions": [(clean_failures(run_wheelhouse), [env.name, env_pins(env)])],
            "getargs": getargs,
            "task_dep": sorted({dep for dep, _ in getargs.values()}),
            "uptodate": [False],
            "verbosity": 2,
        }
