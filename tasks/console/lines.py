"""The console's lines for each event: uv's summary lines, the lock's changes, the cache's table.

Pure text from events (`console_lines`, `summary_lines`, `locked_lines`, `cache_line`), and
`ConsoleReporter`, which prints them: results on stdout, warnings and waits on stderr. The views
in `tasks/console/views.py` build on it.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from tasks.core.eventkinds import (
    BackendOutput,
    CacheUsage,
    Change,
    Event,
    Locked,
    MetadataReady,
    Planned,
    ProjectUsed,
    Pruned,
    PruneDone,
    SkippedCheck,
    SkippedOffline,
    SyncSummary,
    Unverified,
    Waiting,
    Warned,
    WheelhouseFilled,
)
from tasks.core.events import human_bytes

# the console shows these on stderr, the rest on stdout
STDERR_KINDS = (Warned, Waiting, Unverified, ProjectUsed)


class ConsoleReporter:
    """The lines the program prints: results on stdout, warnings and waits on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one event's lines stay together

    def event(self, e: Event) -> None:
        lines = console_lines(e)
        if not lines:
            return
        # looked up at each event, as print() does: doit may swap them while a task runs
        stream = sys.stderr if isinstance(e, STDERR_KINDS) else sys.stdout
        with self._lock:
            for line in lines:
                print(line, file=stream)
            stream.flush()


def console_lines(e: Event) -> list[str]:
    """What the console shows for `e` (most kinds show nothing: the task list says enough)."""
    match e:
        case Warned() | Unverified():
            return [f"warning: {e.message}"]
        case BackendOutput():  # a build backend's line (emitted only when verbose)
            return [f"{e.package}: {e.message}"]
        case Waiting():
            return [e.message or "waiting"]
        case ProjectUsed():
            return [f"wheelwright: {e.message}"]
        case MetadataReady():  # printed when the user ran build_meta:<pkg> itself
            return [f"{e.task}: {e.path}"] if e.message == "asked" else []
        case Locked():
            return locked_lines(e)
        case WheelhouseFilled():
            return [f"{e.task}: {e.count} wheels and their index in {e.path}"]
        case CacheUsage() | Pruned() | PruneDone():
            return [cache_line(e)]
        case SyncSummary():
            return summary_lines(e)
        case Planned():
            version = "" if e.version == "?" else f"=={e.version}"
            return [f"Would {e.message} {e.package}{version} ({e.source})"]
        case SkippedOffline():
            return [f"Offline: skipped {e.message}"]
        case SkippedCheck() if e.task.startswith("lock:"):  # a lock whose inputs have not changed
            return [f"{e.task.removeprefix('lock:')}: up to date (its inputs are as they were locked; "
                    "upgrade=1 resolves again)"]  # fmt: skip
    return []


def locked_lines(e: Locked) -> list[str]:
    """A lock's line, then what changed (`+ click 8.5.1`, `~ rich 13.9.4 -> 15.0.0`, `- colorama 0.4.6`).

    A dry run (`dry=1`, `check=1`) says what would change; a new lock lists no pins (all are new).
    """
    took = f"{e.count} pins in {e.seconds:.2f}s"
    if e.dry:
        verdict = "would change" if e.changes or e.message else "up to date"
        head = f"{e.task}: {e.path}: {verdict} ({took}, nothing written)"
    else:
        head = f"{e.task}: {e.path}: {took}" + (", created" if e.created else "")
    lines = [head]
    if e.created and not e.dry:
        return lines
    lines += [_change_line(c, " ") for c in e.changes]
    return lines + ([f"  {e.message}"] if e.message else [])


def cache_line(e: CacheUsage | Pruned | PruneDone) -> str:
    """The lines of `./doit cache` and `./doit prune`."""
    size = human_bytes(e.bytes)
    if isinstance(e, Pruned):
        return f"removed {e.path} ({size}): {e.message}"
    if isinstance(e, PruneDone):
        return f"pruned {e.path}: {e.count} entries removed, {size} freed ({e.message})"
    if e.message is None:
        return f"cache {e.path}: {size} in {e.count} entries"
    entries = "entry" if e.count == 1 else "entries"
    return f"  {e.path:<26} {size:>10} {e.count:>6} {entries:<7}  {e.message}"


def _change_line(c: Change, sep: str = "==") -> str:
    """` + name==1.0`, ` ~ name==1.0 -> 2.0`, ` - name==1.0` (a lock's changes: `sep` a space)."""
    if c.op == "install":
        return f" + {c.name}{sep}{c.version}"
    if c.op == "replace":
        return f" ~ {c.name}{sep}{c.old} -> {c.version}"
    return f" - {c.name}{sep}{c.old}"


@dataclass(frozen=True)
class Prepared:
    """How the wheels a sync installs were made ready in this run: count, built, reused, seconds."""

    count: int
    built: int
    reused: int
    seconds: float


def summary_lines(e: SyncSummary, prepared: Prepared | None = None) -> list[str]:
    """uv's lines: Resolved, Prepared, Uninstalled, Installed, then `+`/`-`/`~` by name; a no-op is one."""
    where = f"{e.task}: {e.path}" + (", created" if e.created else "")
    phases = dict(e.phases)
    if not e.changes:
        return [f"Audited {_n(e.count)} in {duration(e.seconds)} ({where})"]
    added = sum(1 for c in e.changes if c.op != "remove")
    dropped = sum(1 for c in e.changes if c.op != "install")
    verb = ("Would install", "Would uninstall") if e.dry else ("Installed", "Uninstalled")
    lines = [f"Resolved {_n(e.count + added)} in {duration(phases.get('resolve', 0.0))} ({where})"]
    if prepared is not None and prepared.count and not e.dry:
        fetched = prepared.count - prepared.built - prepared.reused
        made = f"{fetched} downloaded, {prepared.built} built, {prepared.reused} reused from the cache"
        lines.append(f"Prepared {_n(prepared.count)} in {duration(prepared.seconds)} ({made})")
    if dropped:
        lines.append(f"{verb[1]} {_n(dropped)}" + _took(e, "uninstall"))
    if added:
        lines.append(f"{verb[0]} {_n(added)}" + _took(e, "install"))
    return lines + [_change_line(c) for c in sorted(e.changes, key=lambda c: c.name)]


def _took(e: SyncSummary, phase: str) -> str:
    return "" if e.dry else f" in {duration(dict(e.phases).get(phase, 0.0))}"


def _n(count: int) -> str:
    return f"{count} package" + ("" if count == 1 else "s")


def duration(seconds: float) -> str:
    """uv's way: `12ms` below a second, `1.20s` above."""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"
