"""What every stage shares: the run's start, its settings, clean one-line failures, and doit's task reporter.

`start_run` (dodo.py) chooses the views, says which project the run works on, shares the cache (or,
when it is read-only, moves doit's state and the mutexes to a per-user directory), checks
`timeout=` and applies `truststore=` and `verbose=` (the run's network, with `offline=` and the
timeout, is made when an action needs it: `tasks.run.context`); `clean_failures` and `loading` turn errors
into one `error:` line and an exit status (a machine fault in words, an internal error with its
traceback in a log); `Reporter` turns doit's task callbacks into events and writes each failure's
line (the console views live in `tasks/console`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed, UnmetDependency
from doit.reporter import ExecutedOnlyReporter

from tasks.core.errors import ConfigError, UsageError, WheelwrightError
from tasks.core.eventkinds import Failed, Finished, ProjectUsed, SkippedCheck, Started, Warned
from tasks.core.events import emit
from tasks.core.urls import scrub_text as scrub
from tasks.inputs.variables import value as variable
from tasks.run.context import flag
from tasks.run.outline import project_line


def apply_network_settings() -> None:
    """`truststore=1` (WHEELWRIGHT_TRUSTSTORE=1): TLS verified with the system's certificates, for the
    whole process; `timeout=SECONDS` is checked now (a bad value is a usage error before anything runs).
    The run's network itself (`offline=1`, the read timeout, the credentials) is made when an action
    first needs it (`tasks.run.context.network`)."""
    from tasks.core import truststore_switch

    if truststore_switch.wanted(variable("truststore")):
        truststore_switch.use_system_trust_store()
    if variable("timeout"):
        from tasks.run.context import read_timeout

        read_timeout()


def apply_output_settings() -> None:
    """`verbose=1`: build backends' output streamed live (doit's own `-v 2` cannot reach an action)."""
    from tasks.core.events import VERBOSE_ENV
    from tasks.run.context import flag

    if flag("verbose"):
        os.environ[VERBOSE_ENV] = "1"


def open_cache(cache: Path, state: Path) -> None:
    """Share the cache (a prune waits for it); a read-only cache gets a per-user state directory
    (tasks.run.readonly), said in one line. `state`: doit's state, relative to the cache."""
    from tasks.core.rwlock import share_cache
    from tasks.run.readonly import writable

    with contextlib.suppress(OSError):  # a read-only one is said below
        cache.mkdir(parents=True, exist_ok=True)
    if writable(cache, state):
        share_cache(cache)  # held shared until exit
        return
    from tasks.core.mutexes import move_locks
    from tasks.run.context import use_state_home
    from tasks.run.readonly import seed_state, user_state_dir

    home = user_state_dir(cache)
    try:
        seed_state(cache, home, state)
    except OSError as exc:
        raise ConfigError(
            f"the cache {cache} is not writable, nor is {home} ({exc.strerror}); "
            "give a writable one with cache=DIR"
        ) from None
    use_state_home(home)
    move_locks(cache, home)
    emit(Warned(f"the cache {cache} is read-only: state, locks and logs go to {home}", path=str(home)))


# The machine's faults that need no traceback: said in one line, with the path they hit.
_MACHINE_FAULTS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def machine_fault(exc: BaseException) -> str | None:
    """A full disk, a read-only file system or a refused permission, in words; None for anything else."""
    if not isinstance(exc, OSError) or exc.errno not in _MACHINE_FAULTS:
        return None
    where = f": {exc.filename}" if exc.filename else ""
    return f"{_MACHINE_FAULTS[exc.errno]}{where}"


class NamedFailure(TaskFailed):  # type: ignore[misc]
    """A failure the reporter shows after its task's name (the message does not name the package)."""


def clean_failures(action: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any failure of an action into doit's TaskFailed: one line, no traceback on the terminal.

    Project errors say package, source and cause; a full disk or a refused write says so; anything
    else is an internal error whose traceback goes to a log file under the cache.
    """

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except Exception as exc:
            if (refused := _read_only_fault(exc)) is not None:
                return ReadOnlyCache(refused)
            if isinstance(exc, WheelwrightError):
                return TaskFailed(str(exc))
            return NamedFailure(machine_fault(exc) or internal_error(exc))

    return run


class ReadOnlyCache(TaskFailed):  # type: ignore[misc]
    """A write the read-only cache refused: the run needed what the cache does not hold (said once)."""


def _read_only_fault(exc: BaseException) -> str | None:
    from tasks.run.context import cache_root, read_only_cache

    if not read_only_cache():
        return None
    from tasks.run.readonly import read_only_fault

    return read_only_fault(exc, cache_root())


def internal_error(exc: BaseException) -> str:
    """`internal error: <cause> (details: <log>)`, the traceback written to the log."""
    import traceback

    log = write_log("".join(traceback.format_exception(exc)))
    return f"internal error: {_cause(exc)} (details: {log})"


def _cause(exc: BaseException) -> str:
    text = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def write_log(text: str) -> str:
    """Write `text` to `cache/logs/internal-<time>-<n>.log` (a temp directory when the cache fails)."""
    import tempfile

    name = f"internal-{time.strftime('%Y%m%d-%H%M%S')}-"
    for directory in (_log_dir(), Path(tempfile.gettempdir()) / "wheelwright-logs"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, path = tempfile.mkstemp(dir=directory, prefix=name, suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(scrub(text))
            return path
        except OSError:
            continue
    return "no log: nowhere writable"


def _log_dir() -> Path:
    import tempfile

    try:
        from tasks.core import layout
        from tasks.run.context import state_root

        return layout.LOGS.under(state_root())
    except Exception:  # the cache itself is what failed
        return Path(tempfile.gettempdir()) / "wheelwright-logs"


EXIT_FAILED, EXIT_INTERNAL, EXIT_USAGE = 1, 2, 3  # the README's statuses (pip's and doit's)


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Around the work dodo.py does when doit loads it: a failure is one line and its exit status.

    A bad command-line word exits 3, a project failure (an unwritable cache, a bad pipeline.yaml)
    or a machine fault 1, anything unexpected 2 (an internal error, its traceback in a log).
    """
    try:
        yield
    except WheelwrightError as exc:
        sys.stderr.write(f"error: {exc}\n")
        emit(Failed(scrub(str(exc))))
        raise SystemExit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED) from None
    except Exception as exc:
        fault = machine_fault(exc)
        line = f"cannot plan the run: {fault}" if fault else internal_error(exc)
        sys.stderr.write(f"error: {line}\n")
        emit(Failed(line))
        raise SystemExit(EXIT_FAILED if fault else EXIT_INTERNAL) from None


def failing_task(name: str, message: str, doc: str) -> dict[str, Any]:
    """A task that reports a configuration error when run (dodo loading must not traceback)."""
    return {"name": name, "actions": [lambda: TaskFailed(message)], "doc": doc, "uptodate": [False]}


@dataclass
class Outcome:
    """What failed in this run: project failures (`failed`) and errors doit caught (`errors`)."""

    failed: int = 0
    errors: int = 0
    read_only_said: bool = False


# This process's run: counted by the `Reporter` (doit's callbacks) and read by `tasks.__main__` for the
# exit status once doit returns (doit hands a reporter's state back to nobody).
outcome = Outcome()


class Reporter(ExecutedOnlyReporter):  # type: ignore[misc]
    """doit's callbacks as events (`started`, `finished`, `skipped_check`, `failed`); each failure as one
    `error:` line on stderr; with `verbose=1`, each task doit runs."""

    desc = "wheelwright: executed tasks and one line per failure"

    def execute_task(self, task: Any) -> None:
        emit(Started(task=task.name))
        quiet_names = ("_", "sync", "test", "lock", "cache", "prune")  # these say what they did themselves
        if task.actions and not task.name.startswith(quiet_names) and flag("verbose") and not flag("quiet"):
            self.write(f".  {task.name}\n")  # each task doit runs, with verbose=1 only

    def _write_failure(self, result: dict[str, Any], write_exception: bool = True) -> None:
        fail, task = result["exception"], result["task"].name
        emit(Failed(scrub(str(fail.message)), task=task))
        if isinstance(fail, UnmetDependency):
            return
        internal = bool(fail.traceback) or "internal error" in str(fail.message)
        outcome.failed += 1
        outcome.errors += int(internal or not isinstance(fail, TaskFailed))
        if isinstance(fail, ReadOnlyCache):
            if not outcome.read_only_said:  # every task that needed a write would say the same
                sys.stderr.write(f"error: {fail.message}\n")
            outcome.read_only_said = True
        elif isinstance(fail, NamedFailure):
            sys.stderr.write(f"error: {task}: {fail.message}\n")
        elif not fail.traceback:
            sys.stderr.write(f"error: {fail.message}\n")
        else:  # doit caught it outside an action (an uptodate check, getargs): still one line
            log = write_log(fail.get_msg())
            last = [line for line in "".join(fail.traceback).splitlines() if line.strip()][-1:]
            cause = scrub(" ".join(last) or fail.message)[:300]
            sys.stderr.write(f"error: {task}: internal error: {cause} (details: {log})\n")

    def add_success(self, task: Any) -> None:
        emit(Finished(task=task.name))

    def skip_uptodate(self, task: Any) -> None:
        emit(SkippedCheck(task=task.name))

    def complete_run(self) -> None:
        if self.runtime_errors:
            sys.stderr.write("error: " + "\n".join(self.runtime_errors) + "\n")


def start_run() -> str:
    """What a run does before doit reads its tasks; the path of doit's state file.

    Choose the views of its events, say which project it works on, share the cache (a prune waits for
    it) or, when it is read-only, keep state elsewhere, and apply `timeout=` and `verbose=`. A failure
    here is one line (see `loading`).
    """
    from tasks.console.choose import choose_views
    from tasks.run.context import cache_root, outline, state_file, state_relative

    with loading():
        choose_views()
        emit(ProjectUsed(project_line(outline())))
        open_cache(cache_root(), state_relative())
        state = Path(state_file())
        apply_network_settings()
        apply_output_settings()
    return str(state)
