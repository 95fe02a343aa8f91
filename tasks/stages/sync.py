"""Stage `sync:<env>`: make each environment equal its lock, from the fetched wheels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.stages.common import clean_failures, failing_task, pipeline
from tasks.stages.plan import run_jobs
from tasks.syncrun import sync_env

DOC = "make an environment equal its lock (req=FILE venv=DIR, or pipeline.yaml)"


def task_sync() -> Iterator[dict[str, Any]]:
    """Make each environment equal its lock exactly (install, replace, remove)."""
    jobs = run_jobs()
    if not jobs:
        yield failing_task("none", "no environments: add pipeline.yaml or give req=FILE venv=DIR", DOC)
        return
    cache = pipeline().cache
    for job in jobs:
        if job.error:
            yield failing_task(job.spec.name, job.error, DOC)
            continue
        getargs = {f"pin{i}": (f"fetch:{job.task_names[p.name]}", None) for i, p in enumerate(job.pins)}
        yield {
            "name": job.spec.name,
            "doc": f"sync {job.spec.path} to {', '.join(str(p) for p in job.spec.requirements)}",
            "actions": [(clean_failures(sync_env), [job, cache])],
            "getargs": getargs,
            "task_dep": sorted({dep for dep, _ in getargs.values()}),
            "uptodate": [False],
            "verbosity": 2,
        }
