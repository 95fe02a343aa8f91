"""The run's event channel: library code reports what happened (`emit(Built(...))`), the reporter shows it.

The kinds of event, one frozen record each, are in `tasks/core/eventkinds.py`. Nothing outside
`tasks/console` prints: library code calls `emit(...)` or `warn(...)`. A run's views (the console,
the JSON report, the timings page) are chosen by `tasks/console/choose.py`, which calls
`set_reporter()` for the whole process (every thread) before any task runs.
`WHEELWRIGHT_EVENTS=<file>` appends every event to that file as one JSON object a line. Before a
view is chosen (library code called on its own, as tests do), the default reporter writes only that
file and each warning or wait to stderr, so nothing that matters is lost.

Why the reporter stays process-wide (the one collaborator that is reached for, not handed down):
it is chosen once per run, from the run's variables, before doit reads a task, and never changes
while tasks run; every thread of `-n N -P thread` and every layer (a download in `core`, a build in
`source`, an action in `run`, doit's own callbacks in `stages`) reports to that same one. Handing it
down would thread one unchanging value through every task dict, action and library call (doit
passes an action only what its task dict names), and a call that forgot it would lose a warning.
Tests swap it with `set_reporter` and put the old one back.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Protocol

from tasks.core.eventkinds import Change as Change  # re-exported: the channel's callers name both
from tasks.core.eventkinds import Event as Event
from tasks.core.eventkinds import Unverified, Waiting, Warned

EVENTS_ENV = "WHEELWRIGHT_EVENTS"  # a file that receives every event as a JSON line
VERBOSE_ENV = "WHEELWRIGHT_VERBOSE"  # set (`verbose=1` sets it): build backends' output shown live


class Reporter(Protocol):
    """Whoever shows a run: the console, a progress view, a JSON report, a test's recorder."""

    def event(self, e: Event) -> None: ...


def human_bytes(count: int) -> str:
    """`512 B`, `12.0 KiB`, `3.4 MiB`, `1.2 GiB`."""
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


class JsonLinesReporter:
    """Every event appended to `path` as one JSON line (one write each, so processes may share it)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def event(self, e: Event) -> None:
        import json  # only when a JSON log was asked for (the no-op sync stays light)

        line = (json.dumps(e.as_json(), sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


class Tee:
    """Hands each event to several reporters in turn."""

    def __init__(self, *reporters: Reporter) -> None:
        self.reporters = reporters

    def event(self, e: Event) -> None:
        for each in self.reporters:
            each.event(e)


_current: Reporter | None = None
_choosing = threading.Lock()


def is_verbose() -> bool:
    """`verbose=1` (or WHEELWRIGHT_VERBOSE=1): build backends' output is shown as it comes."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


class Stderr:
    """Before a view is chosen: each warning and wait on stderr, as the console would show it."""

    def event(self, e: Event) -> None:
        if isinstance(e, (Warned, Unverified)):
            sys.stderr.write(f"warning: {e.message}\n")
        elif isinstance(e, Waiting):
            sys.stderr.write(f"{e.message or 'waiting'}\n")


def default_reporter() -> Reporter:
    """Until a view is chosen: warnings and waits on stderr, and the JSON-lines file `WHEELWRIGHT_EVENTS`
    names when it is set (the console's views live above, in `tasks/console`)."""
    log = os.environ.get(EVENTS_ENV)
    return Tee(Stderr(), JsonLinesReporter(log)) if log else Stderr()


def reporter() -> Reporter:
    """The run's reporter (the default one, made on first use, unless `set_reporter` chose another)."""
    global _current
    current = _current
    if current is None:
        with _choosing:
            if _current is None:
                _current = default_reporter()
            current = _current
    return current


def set_reporter(new: Reporter | None) -> Reporter | None:
    """Make `new` the run's reporter (None: the default again); returns the one it replaces."""
    global _current
    with _choosing:
        old, _current = _current, new
    return old


def emit(e: Event) -> None:
    """Report `e` to the run's reporter."""
    reporter().event(e)


def warn(message: str) -> None:
    """Something wrong that does not fail the run (a damaged cache entry removed and remade)."""
    emit(Warned(message))
