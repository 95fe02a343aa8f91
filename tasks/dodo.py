"""wheelwright's pipeline, a table of contents: DOIT_CONFIG and the task generators of tasks/stages."""

from tasks.inputs.project import is_own_checkout
from tasks.stages.build import task_build_meta, task_build_wheel
from tasks.stages.cache import task_cache, task_prune
from tasks.stages.common import Reporter, start_run
from tasks.stages.fetch import task_fetch
from tasks.stages.lock import task_lock
from tasks.stages.sync import task_sync
from tasks.stages.wheelhouse import task_wheelhouse

DOIT_CONFIG = {
    "default_tasks": ["sync"],
    "backend": "wheelwright-sqlite",  # doit's sqlite3, commits not flushed (tasks/stages/state.py)
    "dep_file": start_run(),  # doit's state lives in the cache, so CI persists both together
    "num_process": 8,
    "par_type": "thread",
    "reporter": Reporter,
    "continue": True,
}

__all__ = [
    "DOIT_CONFIG",
    "task_build_meta",
    "task_build_wheel",
    "task_cache",
    "task_fetch",
    "task_lock",
    "task_prune",
    "task_sync",
    "task_wheelhouse",
]

if is_own_checkout():  # developer tasks: only in wheelwright's own checkout (never in a project)
    from tasks.stages.test import task_test, task_test_wheels

    __all__ += ["task_test", "task_test_wheels"]
