"""Stage `lock:<env>`: compile an environment's loose `*.in` into its lock, when inputs change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.run.actions import run_lock
from tasks.run.context import outline, variables
from tasks.stages.common import clean_failures, failing_task

DOC = (
    "resolve loose requirements into a lock (req=FILE.in out=FILE.txt, or pipeline.yaml `in:`);"
    " check=1 / dry=1 write nothing, exclude-newer=TIME|SPAN"
)


class lock_inputs(config_changed):  # type: ignore[misc]  # doit is untyped
    """doit's `config_changed`, except a dry run that found changes saves no digest: with the input
    files' digests alone the next `lock` would be taken as done; without this one it runs."""

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(config)
        self.name = name

    def configure_task(self, task: Any) -> None:
        task.value_savers.append(self._saved)

    def _saved(self) -> dict[str, Any]:
        from tasks.run.lock_env import dry_changed  # the lock ran: its module is loaded already

        return {"_config_changed": None if self.name in dry_changed else self.config_digest}


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
            else [
                lock_inputs(
                    {
                        "key": lock.key,
                        "hashes": options.get("hashes", "1"),
                        "exclude-newer": options.get("exclude-newer"),
                    },
                    lock.name,
                )
            ],
            "verbosity": 2,
        }
