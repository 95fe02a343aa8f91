"""wheelwright's pipeline: DOIT_CONFIG and the task generators, imported from tasks/stages."""

from pathlib import Path

from tasks.run.current import state_file
from tasks.stages.build import task_build_meta, task_build_wheel
from tasks.stages.common import Reporter, apply_network_settings, check_cache_writable, loading
from tasks.stages.fetch import task_fetch
from tasks.stages.lock import task_lock
from tasks.stages.sync import task_sync
from tasks.stages.test import task_test, task_test_wheels

with loading():  # planning the outline here must fail in one line too, not a traceback from doit's loader
    STATE_FILE = state_file()
    check_cache_writable(Path(STATE_FILE))
    apply_network_settings()

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
    "task_fetch",
    "task_lock",
    "task_sync",
    "task_test",
    "task_test_wheels",
]
