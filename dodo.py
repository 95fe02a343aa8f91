"""wheelwright's pipeline: DOIT_CONFIG and the task generators, imported from tasks/stages."""

from pathlib import Path

from tasks.core.cachelock import share_cache
from tasks.run.current import state_file
from tasks.run.report import choose_views
from tasks.stages.build import task_build_meta, task_build_wheel
from tasks.stages.cache import task_cache, task_prune
from tasks.stages.common import (
    Reporter,
    apply_network_settings,
    apply_output_settings,
    check_cache_writable,
    loading,
)
from tasks.stages.fetch import task_fetch
from tasks.stages.lock import task_lock
from tasks.stages.sync import task_sync
from tasks.stages.test import task_test, task_test_wheels

with loading():  # planning the outline here must fail in one line too, not a traceback from doit's loader
    choose_views()
    STATE_FILE = state_file()
    check_cache_writable(Path(STATE_FILE))
    share_cache(Path(STATE_FILE).parent)  # held shared until exit; a prune waits for it
    apply_network_settings()
    apply_output_settings()

DOIT_CONFIG = {
    "default_tasks": ["sync"],
    "backend": "sqlite3",
    "dep_file": STATE_FILE,
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
    "task_test",
    "task_test_wheels",
]
