"""`timings=FILE.html`: the run's events drawn as one self-contained HTML page (see console/timings_page.py).

`TimingsView` is a `ReportView` (it keeps the same events, the same sources and the same `why`)
that also notes which thread each task began on; at exit it turns what it kept into a `Page` and
writes it atomically, on failure too. A task's bar runs from its `started` event to its
`finished` or `failed` event; doit runs a task's actions and reports its start on the same thread.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from tasks.console.report import ReportView
from tasks.console.timings_page import Bar, Page, SourceRow, render
from tasks.core.eventkinds import (
    Built,
    Downloaded,
    Event,
    Failed,
    Finished,
    Locked,
    Reused,
    SkippedCheck,
    Started,
)


class TimingsView(ReportView):
    """Collects the run's events with the thread of each task, and writes the timings page at exit."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.threads: dict[str, str] = {}  # task → the name of the thread it ran on

    def event(self, e: Event) -> None:
        super().event(e)
        if isinstance(e, Started):
            self.threads[e.task] = threading.current_thread().name

    def write(self) -> None:
        from tasks.core.files import atomic_write_text
        from tasks.core.urls import scrub

        atomic_write_text(self.path, scrub(render(self.page())))

    def page(self) -> Page:
        document = self.document()
        return Page(
            command=" ".join(["wheelwright", *document["command"]]),
            project=os.environ.get("WHEELWRIGHT_CWD") or os.getcwd(),
            environments=_environments(document, self.events),
            started=document["started"],
            seconds=document["seconds"],
            counts=self.counts(document),
            downloaded_bytes=sum(e.bytes for e in self.of(Downloaded)),
            bars=self.bars(document["seconds"]),
            sources=self.source_rows(document["sources"]),
            error=document["error"],
        )

    def bars(self, total: float) -> tuple[Bar, ...]:
        """One bar per task that ran, on its thread's lane (lanes numbered in order of first use)."""
        begun: dict[str, float] = {}
        bars: list[Bar] = []
        lanes: dict[str, int] = {}
        for at, e in self.events:
            if isinstance(e, Started):
                begun[e.task] = at
            elif isinstance(e, (Finished, Failed)) and e.task is not None and e.task in begun:
                task = e.task
                lane = lanes.setdefault(self.threads.get(task, "?"), len(lanes))
                bars.append(Bar(task, lane, begun.pop(task), at, failed=isinstance(e, Failed)))
        for task, start in begun.items():  # still running when the process ended (interrupted)
            lane = lanes.setdefault(self.threads.get(task, "?"), len(lanes))
            bars.append(Bar(task, lane, start, total, failed=True))
        return tuple(sorted(bars, key=lambda b: (b.start, b.task)))

    def counts(self, document: dict[str, Any]) -> tuple[tuple[str, int], ...]:
        envs = document["environments"].values()
        changed = sum(len(env["installed"]) + len(env["replaced"]) for env in envs)
        removed = sum(len(env["removed"]) + len(env["replaced"]) for env in envs)
        resolved = sum(env["unchanged"] + len(env["installed"]) + len(env["replaced"]) for env in envs)
        resolved += sum(e.count for e in self.of(Locked))
        built = sum(1 for e in self.of(Built) if e.filename.endswith(".whl"))
        reused = len(self.of(Reused))
        return (
            ("resolved", resolved),
            ("downloaded", len(self.of(Downloaded))),
            ("built", built),
            ("reused", reused),
            ("installed", changed),
            ("removed", removed),
            ("cache hits", reused + len(self.of(SkippedCheck))),
        )

    def source_rows(self, sources: dict[str, dict[str, Any]]) -> tuple[SourceRow, ...]:
        rows = []
        for name, facts in sorted(sources.items()):
            built = [e for e in self.of(Built) if e.package == name]
            rows.append(
                SourceRow(
                    name=name,
                    kind=str(facts.get("kind", "")),
                    revision=str(facts.get("revision") or ""),
                    fresh=facts.get("fresh"),
                    why=str(facts.get("why", "")),
                    built=tuple(facts.get("built") or ()),
                    reused=len(facts.get("reused") or ()),
                    build_seconds=sum(e.seconds for e in built),
                    downloaded_bytes=int(facts.get("downloaded_bytes") or 0),
                    log=next((e.log for e in reversed(built) if e.log), None),
                )
            )
        return tuple(rows)


def _environments(document: dict[str, Any], events: list[tuple[float, Event]]) -> tuple[str, ...]:
    synced = [f"{task} ({env['path']})" for task, env in sorted(document["environments"].items())]
    locked = [f"{e.task} ({e.path})" for _, e in events if isinstance(e, Locked)]
    return tuple(synced + locked) or (" ".join(sys.argv[1:2]) or "default",)
