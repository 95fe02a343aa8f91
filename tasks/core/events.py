"""The run's event channel: library code reports what happened as `Event`s, the run's reporter shows them.

Nothing outside `tasks/console` prints: library code calls `emit(Event(...))`. A run's views (the
console, the JSON report, the timings page) are chosen by `tasks/console/choose.py`, which calls
`set_reporter()` for the whole process (every thread) before any task runs.
`WHEELWRIGHT_EVENTS=<file>` appends every event to that file as one JSON object a line. Before a
view is chosen (library code called on its own, as tests do), the default reporter writes only that
file and each warning or wait to stderr, so nothing that matters is lost.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

Kind = Literal[
    "started",  # a task's actions begin (task)
    "finished",  # a task's actions ended well (task); a task that failed reports `failed`
    "skipped_check",  # a task doit skipped: its uptodate check passed (task)
    "failed",  # a task failed (task, message)
    "downloaded",  # a file fetched into the cache (package, filename, source, bytes)
    "built",  # a source's metadata or wheel built (package, source, filename, path, seconds)
    "reused",  # a source's metadata or built wheel taken from the cache (package, filename, path)
    "installed",  # a wheel installed into an environment (package, version, filename, path)
    "removed",  # a distribution removed from an environment (package, version, path)
    "metadata",  # build_meta's result: where the source's metadata.json is (task, path)
    "locked",  # a lock resolved (task, path, count = pins, seconds, changes, dry: nothing written, created)
    "wheelhouse",  # `wheelhouse`: a directory filled with an environment's wheels (task, path, count)
    "summary",  # a sync's result (task, path, changes, count = unchanged, created, seconds)
    "warning",  # something wrong that did not fail the run (message)
    "waiting",  # waiting for another process (message)
    "cache_usage",  # `./doit cache`: the total (path = cache), then each family (path, bytes, count, message)
    "pruned",  # `./doit prune` removed a cache entry (path, bytes freed, message = why)
    "prune_done",  # `./doit prune` finished (path = cache, count = entries removed, bytes freed, message)
    "progress",  # a download under way, a few times a second (package, filename, bytes so far, total)
    "building",  # a build begins (package, source, filename = metadata.json or wheel)
    "installing",  # a sync starts changing an environment (task, path, count = distributions)
    "planned",  # dry run: what a sync would do (package, version, message = download|build, source)
    "offline",  # a remote check skipped because the run is offline (package, source, message)
    "unverified",  # a source's remote is down: its last confirmed revision used (package, source, message)
    "differs",  # check=1: the environment differs from the lock (task, path, changes)
    "project",  # a run's first line: the project, its pipeline.yaml (or the defaults), lock -> environment
    "output",  # with verbose=1 only: one line of a build backend's output, live (package, message)
]

EVENTS_ENV = "WHEELWRIGHT_EVENTS"  # a file that receives every event as a JSON line
STDERR_KINDS = (
    "warning",
    "waiting",
    "unverified",
    "project",
)  # the console shows these on stderr, the rest on stdout
VERBOSE_ENV = "WHEELWRIGHT_VERBOSE"  # set (`verbose=1` sets it): build backends' output shown live


@dataclass(frozen=True)
class Change:
    """One line of a sync's plan: install (version), replace (old → version) or remove (old)."""

    op: Literal["install", "replace", "remove"]
    name: str
    version: str | None = None
    old: str | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened in a run; fields a kind does not use stay None."""

    kind: Kind
    task: str | None = None
    package: str | None = None
    version: str | None = None
    source: str | None = None
    filename: str | None = None
    path: str | None = None
    message: str | None = None
    bytes: int | None = None
    seconds: float | None = None
    count: int | None = None
    created: bool | None = None
    changes: tuple[Change, ...] = ()
    total: int | None = None  # progress: the download's size, when the server said it
    phases: tuple[tuple[str, float], ...] = ()  # summary: seconds per phase (resolve, uninstall, install)
    dry: bool | None = None  # summary: what a dry run would do, nothing done
    log: str | None = None  # built: the build backend's log file

    def as_json(self) -> dict[str, object]:
        """The event as a JSON object, without the fields it leaves empty."""
        data = {k: v for k, v in asdict(self).items() if v is not None and v != ()}
        if self.changes:
            data["changes"] = [{k: v for k, v in asdict(c).items() if v is not None} for c in self.changes]
        if self.phases:
            data["phases"] = dict(self.phases)
        return data


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
        if e.kind in ("warning", "unverified"):
            sys.stderr.write(f"warning: {e.message}\n")
        elif e.kind == "waiting":
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
    emit(Event("warning", message=message))
