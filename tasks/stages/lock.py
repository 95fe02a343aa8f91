"""Stage `lock:<env>`: compile an environment's loose `*.in` into its lock, when inputs change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.run.actions import run_lock
from tasks.run.current import outline, variables
from tasks.stages.common import clean_failures, failing_task

DOC = "resolve loose requirements into a lock (req=FILE.in out=FILE.txt, or pipeline.yaml `in:`)"


def task_lock() -> Iterator[dict[str, Any]]:
    """Resolve each environment's loose `*.in` into its pinned, hashed lock."""
    options = variables()
    upgrade = options.get("upgrade")
    locks = outline().locks
    if not locks:
        yield failing_task(
            "none", "nothing to lock: give req=FILE.in out=FILE.txt or `in:` in pipeline.yaml", DOC
        )
        return
    for lock in locks:
        if lock.error and not lock.key:
            yield failing_task(lock.name, lock.error, DOC)
            continue
        yield {
            "name": lock.name,
            "doc": lock.doc,
            "actions": [(clean_failures(run_lock), [lock.name])],
            "file_dep": lock.deps,
            "targets": [lock.out],
            "uptodate": [False]
            if upgrade
            else [config_changed({"key": lock.key, "hashes": options.get("hashes", "1")})],
            "verbosity": 2,
        }
