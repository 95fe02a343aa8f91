"""Views of the run's events on the console: plain lines for logs, a live display on a terminal, quiet.

All three print the same results (uv's summary lines, warnings); they differ in how work under way
shows. `PlainView` (not a terminal: CI logs) prints one line per finished download of more than
1 MiB and per build, with no control characters. `LiveView` (a terminal) draws the downloads,
builds and installs under way on stderr, redrawn in place a few times a second, and erases
them when the work is done. `QuietView` (`-q`, `quiet=1`) shows nothing: errors are printed by
the task reporter. No drawing library: plain ANSI sequences, so nothing heavy is imported.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from tasks.console.lines import (
    STDERR_KINDS,
    ConsoleReporter,
    Prepared,
    console_lines,
    duration,
    summary_lines,
)
from tasks.core.eventkinds import (
    Building,
    Built,
    Downloaded,
    Event,
    Failed,
    Installing,
    Progress,
    Started,
    SyncSummary,
)

BIG_DOWNLOAD = 1 << 20  # finished downloads above this size get a line in logs
PREPARING = ("fetch:", "build_meta:", "build_wheel:")


def size(count: int) -> str:
    """`3.2 MiB`, `61 KiB`, `120 B`."""
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    return f"{count / 1024:.0f} KiB" if count >= 1024 else f"{count} B"


class Tally:
    """What this run did to prepare wheels: which packages were built or downloaded, and when."""

    def __init__(self) -> None:
        self.first_prepare: float | None = None
        self.sync_started: dict[str, float] = {}
        self.built: set[str] = set()
        self.downloaded: set[str] = set()

    def note(self, e: Event) -> None:
        now = time.monotonic()
        if isinstance(e, Started):
            if e.task.startswith(PREPARING) and self.first_prepare is None:
                self.first_prepare = now
            elif e.task.startswith("sync:"):
                self.sync_started[e.task.removeprefix("sync:")] = now
        elif isinstance(e, Built) and e.filename.endswith(".whl"):
            self.built.add(e.package)
        elif isinstance(e, Downloaded):
            self.downloaded.add(e.package)

    def prepared(self, e: SyncSummary) -> Prepared:
        """For a summary: the wheels it installs, how many were built and how many came from the cache."""
        names = {c.name for c in e.changes if c.op != "remove"}
        built = len(names & self.built)
        reused = len(names - self.built - self.downloaded)
        began, synced = self.first_prepare, self.sync_started.get(e.task)
        seconds = synced - began if began is not None and synced is not None and synced > began else 0.0
        return Prepared(len(names), built, reused, seconds)


class PlainView(ConsoleReporter):
    """The console for logs: results, and one line per big download and per build."""

    def __init__(self) -> None:
        super().__init__()
        self.tally = Tally()

    def event(self, e: Event) -> None:
        self.tally.note(e)
        lines = self.lines(e)
        if lines:
            self.write(lines, sys.stderr if isinstance(e, STDERR_KINDS) else sys.stdout)

    def lines(self, e: Event) -> list[str]:
        match e:
            case SyncSummary():
                return summary_lines(e, self.tally.prepared(e))
            case Downloaded() if e.bytes > BIG_DOWNLOAD:
                took = f" in {duration(e.seconds)}" if e.seconds is not None else ""
                return [f"Downloaded {e.package} ({e.filename}, {size(e.bytes)}){took}"]
            case Built():  # a wheel, not the metadata prepared on the way to it
                if not e.filename.endswith(".whl"):
                    return []
                return [f"Built {e.package} {e.filename} from {e.source} in {duration(e.seconds)}"]
        return console_lines(e)

    def write(self, lines: list[str], stream: TextIO) -> None:
        with self._lock:
            for line in lines:
                print(line, file=stream)
            stream.flush()


class QuietView:
    """`-q`: no lines from events at all (the task reporter still prints each `error:` line)."""

    def event(self, e: Event) -> None:
        return None


class LiveView(PlainView):
    """On a terminal: the work under way drawn on stderr and erased when done; results as PlainView."""

    HZ = 8  # redraws a second, at most

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.downloads: dict[str, tuple[int, int | None, float]] = {}  # filename → bytes, total, since
        self.builds: dict[str, tuple[str, float]] = {}  # package → source, since
        self.installing: tuple[str, int, float] | None = None
        self.drawn = 0  # lines on screen now
        self.last_draw = 0.0
        self.ticker: threading.Thread | None = None  # redraws while a build runs without events

    def event(self, e: Event) -> None:
        self.tally.note(e)
        with self._lock:
            self.track(e)
            shown = isinstance(e, (Downloaded, Built))  # the display showed those
            lines = [] if shown else self.lines(e)
            if lines:
                self.erase()
                stream = sys.stderr if isinstance(e, STDERR_KINDS) else sys.stdout
                print("\n".join(lines), file=stream, flush=True)
            self.draw(force=bool(lines) or shown or isinstance(e, (SyncSummary, Failed)))

    def track(self, e: Event) -> None:
        now = time.monotonic()
        match e:
            case Progress() if e.filename:
                since = self.downloads.get(e.filename, (0, None, now))[2]
                self.downloads[e.filename] = (e.bytes, e.total, since)
            case Downloaded():
                self.downloads.pop(e.filename, None)
            case Building():
                self.builds[e.package] = (e.source, now)
                self.tick()
            case Built():
                self.builds.pop(e.package, None)
            case Installing():
                self.installing = (e.path, e.count, now)
            case SyncSummary():
                self.installing = None

    def tick(self) -> None:
        if self.ticker is None:
            self.ticker = threading.Thread(target=self._redraw_forever, daemon=True)
            self.ticker.start()

    def _redraw_forever(self) -> None:
        while True:
            time.sleep(1 / self.HZ)
            with self._lock:
                if self.drawn or self.builds or self.installing:
                    self.draw()

    def screen(self) -> list[str]:
        now = time.monotonic()
        rows = []
        for filename, (done, total, since) in sorted(self.downloads.items()):
            rate = done / max(now - since, 1e-3)
            of = f" / {size(total)}" if total else ""
            rows.append(f"  downloading {filename}  {size(done)}{of}  {size(int(rate))}/s")
        for package, (source, since) in sorted(self.builds.items()):
            rows.append(f"  building {package} from {source}  {now - since:.1f}s")
        if self.installing is not None:
            path, count, since = self.installing
            rows.append(f"  installing {count} packages into {path}  {now - since:.1f}s")
        return rows

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < 1 / self.HZ:
            return
        self.last_draw = now
        self.erase()
        rows = self.screen()
        if rows:
            self.stream.write("\n".join(rows) + "\n")
            self.stream.flush()
        self.drawn = len(rows)

    def erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")  # up to the first line drawn, clear below
            self.stream.flush()
            self.drawn = 0


def console_view(quiet: bool, terminal: bool | None = None) -> ConsoleReporter | QuietView:
    """The view for this run: quiet, live on a terminal, else plain lines."""
    if quiet:
        return QuietView()
    if terminal is None:
        terminal = sys.stderr.isatty() and sys.stdout.isatty()
    return LiveView() if terminal else PlainView()
