"""Stage `sync:<env>`: make each environment equal its lock, from the fetched wheels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.run.actions import run_sync
from tasks.run.current import outline
from tasks.stages.common import clean_failures, failing_task

DOC = "make an environment equal its lock (req=FILE venv=DIR, or pipeline.yaml)"


def task_sync() -> Iterator[dict[str, Any]]:
    """Make each environment equal its lock exactly (install, replace, remove)."""
    envs = outline().envs
    if not envs:
        yield failing_task("none", "no environments: add pipeline.yaml or give req=FILE venv=DIR", DOC)
        return
    for env in envs:
        if env.error:
            yield failing_task(env.name, env.error, DOC)
            continue
        getargs = {f"pin{i}": (task, None) for i, task in enumerate(env.pins)}
        yield {
            "name": env.name,
            "doc": env.doc,
            "actions": [(clean_failures(run_sync), [env.name])],
            "getargs": getargs,
            "task_dep": sorted({dep for dep, _ in getargs.values()}),
            "uptodate": [False],
            "verbosity": 2,
        }
