"""The run's event channel: library code reports what happened as `Event`s, the run's reporter shows them.

Nothing below `tasks/stages` prints: it calls `emit(Event(...))`. The default reporter is the
console (exactly the lines the program has always printed); `WHEELWRIGHT_EVENTS=<file>` also
appends every event to that file as one JSON object a line (what a progress view or a JSON report
reads). `set_reporter()` replaces the reporter for the whole process (every thread).
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


class ConsoleReporter:
    """The lines the program prints: results on stdout, warnings and waits on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one event's lines stay together

    def event(self, e: Event) -> None:
        lines = console_lines(e)
        if not lines:
            return
        # looked up at each event, as print() does: doit may swap them while a task runs
        stream = sys.stderr if e.kind in STDERR_KINDS else sys.stdout
        with self._lock:
            for line in lines:
                print(line, file=stream)
            stream.flush()


def console_lines(e: Event) -> list[str]:
    """What the console shows for `e` (most kinds show nothing: the task list says enough)."""
    if e.kind in ("warning", "unverified"):
        return [f"warning: {e.message}"]
    if e.kind == "output":  # a build backend's line (emitted only when verbose)
        return [f"{e.package}: {e.message}"]
    if e.kind == "waiting":
        return [e.message or "waiting"]
    if e.kind == "project":
        return [f"wheelwright: {e.message}"]
    if e.kind == "metadata":  # printed when the user ran build_meta:<pkg> itself
        return [f"{e.task}: {e.path}"] if e.message == "asked" else []
    if e.kind == "locked":
        return locked_lines(e)
    if e.kind == "wheelhouse":
        return [f"{e.task}: {e.count} wheels and their index in {e.path}"]
    if e.kind in ("cache_usage", "pruned", "prune_done"):
        return [cache_line(e)]
    if e.kind == "summary":
        return summary_lines(e)
    if e.kind == "planned":
        version = "" if e.version in (None, "?") else f"=={e.version}"
        return [f"Would {e.message} {e.package}{version} ({e.source})"]
    if e.kind == "offline":
        return [f"Offline: skipped {e.message}"]
    return []


def locked_lines(e: Event) -> list[str]:
    """A lock's line, then what changed (`+ click 8.5.1`, `~ rich 13.9.4 -> 15.0.0`, `- colorama 0.4.6`).

    A dry run (`dry=1`, `check=1`) says what would change; a new lock lists no pins (all are new).
    """
    took = f"{e.count} pins in {e.seconds or 0.0:.2f}s"
    if e.dry:
        verdict = "would change" if e.changes or e.message else "up to date"
        head = f"{e.task}: {e.path}: {verdict} ({took}, nothing written)"
    else:
        head = f"{e.task}: {e.path}: {took}" + (", created" if e.created else "")
    lines = [head]
    if e.created and not e.dry:
        return lines
    lines += [_lock_change_line(c) for c in e.changes]
    return lines + ([f"  {e.message}"] if e.message else [])


def _lock_change_line(c: Change) -> str:
    if c.op == "install":
        return f" + {c.name} {c.version}"
    if c.op == "replace":
        return f" ~ {c.name} {c.old} -> {c.version}"
    return f" - {c.name} {c.old}"


def cache_line(e: Event) -> str:
    """The lines of `./doit cache` and `./doit prune`."""
    size = human_bytes(e.bytes or 0)
    if e.kind == "pruned":
        return f"removed {e.path} ({size}): {e.message}"
    if e.kind == "prune_done":
        return f"pruned {e.path}: {e.count} entries removed, {size} freed ({e.message})"
    if e.message is None:
        return f"cache {e.path}: {size} in {e.count} entries"
    entries = "entry" if e.count == 1 else "entries"
    return f"  {e.path:<26} {size:>10} {e.count:>6} {entries:<7}  {e.message}"


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


def _change_line(c: Change) -> str:
    if c.op == "install":
        return f" + {c.name}=={c.version}"
    if c.op == "replace":
        return f" ~ {c.name}=={c.old} -> {c.version}"
    return f" - {c.name}=={c.old}"


@dataclass(frozen=True)
class Prepared:
    """How the wheels a sync installs were made ready in this run: count, built, reused, seconds."""

    count: int
    built: int
    reused: int
    seconds: float


def summary_lines(e: Event, prepared: Prepared | None = None) -> list[str]:
    """uv's lines: Resolved, Prepared, Uninstalled, Installed, then `+`/`-`/`~` by name; a no-op is one."""
    where = f"{e.task}: {e.path}" + (", created" if e.created else "")
    phases = dict(e.phases)
    if not e.changes:
        return [f"Audited {_n(e.count or 0)} in {duration(e.seconds or 0.0)} ({where})"]
    added = sum(1 for c in e.changes if c.op != "remove")
    dropped = sum(1 for c in e.changes if c.op != "install")
    verb = ("Would install", "Would uninstall") if e.dry else ("Installed", "Uninstalled")
    lines = [f"Resolved {_n((e.count or 0) + added)} in {duration(phases.get('resolve', 0.0))} ({where})"]
    if prepared is not None and prepared.count and not e.dry:
        fetched = prepared.count - prepared.built - prepared.reused
        made = f"{fetched} downloaded, {prepared.built} built, {prepared.reused} reused from the cache"
        lines.append(f"Prepared {_n(prepared.count)} in {duration(prepared.seconds)} ({made})")
    if dropped:
        lines.append(f"{verb[1]} {_n(dropped)}" + _took(e, "uninstall"))
    if added:
        lines.append(f"{verb[0]} {_n(added)}" + _took(e, "install"))
    return lines + [_change_line(c) for c in sorted(e.changes, key=lambda c: c.name)]


def _took(e: Event, phase: str) -> str:
    return "" if e.dry else f" in {duration(dict(e.phases).get(phase, 0.0))}"


def _n(count: int) -> str:
    return f"{count} package" + ("" if count == 1 else "s")


def duration(seconds: float) -> str:
    """uv's way: `12ms` below a second, `1.20s` above."""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


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


def default_reporter() -> Reporter:
    """The console, and the JSON-lines file `WHEELWRIGHT_EVENTS` names when it is set."""
    log = os.environ.get(EVENTS_ENV)
    return Tee(ConsoleReporter(), JsonLinesReporter(log)) if log else ConsoleReporter()


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
