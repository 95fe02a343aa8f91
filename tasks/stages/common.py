"""What every stage shares: the run's configuration, clean failures, and the console reporter."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from doit import get_var
from doit.exceptions import TaskFailed, UnmetDependency
from doit.reporter import ExecutedOnlyReporter

from tasks.errors import WheelwrightError

if TYPE_CHECKING:
    from tasks.config import Pipeline

VARIABLES = ("req", "venv", "python", "cache", "config", "out", "upgrade", "hashes", "pkg")


def variables() -> dict[str, str]:
    """The `key=value` words given on the command line."""
    return {k: v for k in VARIABLES if (v := get_var(k, None))}


@functools.cache
def pipeline() -> Pipeline:
    from tasks.config import load_pipeline

    return load_pipeline(variables())


def clean_failures(action: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a project error into doit's TaskFailed: one line, no traceback."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except WheelwrightError as exc:
            return TaskFailed(str(exc))

    return run


def failing_task(name: str, message: str, doc: str) -> dict[str, Any]:
    """A task that reports a configuration error when run (dodo loading must not traceback)."""
    return {"name": name, "actions": [lambda: TaskFailed(message)], "doc": doc, "uptodate": [False]}


class Reporter(ExecutedOnlyReporter):  # type: ignore[misc]
    """Prints executed tasks, and each failure as one `error:` line on stderr."""

    desc = "wheelwright: executed tasks and one line per failure"

    def execute_task(self, task: Any) -> None:
        if task.actions and not task.name.startswith(("_", "sync", "test", "lock")):
            self.write(f".  {task.name}\n")

    def _write_failure(self, result: dict[str, Any], write_exception: bool = True) -> None:
        fail = result["exception"]
        if isinstance(fail, UnmetDependency):
            return
        if not fail.traceback:
            sys.stderr.write(f"error: {fail.message}\n")
            return
        sys.stderr.write(f"error: {result['task'].name}: {fail.get_msg()}\n")

    def complete_run(self) -> None:
        if self.runtime_errors:
            sys.stderr.write("error: " + "\n".join(self.runtime_errors) + "\n")
