"""`report=FILE`: the run's JSON report.

`report=FILE` writes one JSON document when the process ends, success or failure (atomically:
a temp file beside FILE, then a rename): per source its kind, revision, fresh or stale and why,
built or reused (and which metadata.json), bytes downloaded; per environment what was installed,
replaced and removed; seconds per phase; and the errors.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any, TypeVar

from tasks.console.views import Tally
from tasks.core.eventkinds import (
    Built,
    Downloaded,
    Event,
    Failed,
    MetadataReady,
    Planned,
    Progress,
    Reused,
    SkippedCheck,
    SkippedOffline,
    Started,
    SyncSummary,
    Unverified,
)
from tasks.run.context import flag

REPORT_VERSION = 1
E = TypeVar("E", bound=Event)


class ReportView:
    """Collects a run's events and writes them as one JSON document (`write`, at exit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[tuple[float, Event]] = []
        self.started = time.time()
        self.clock = time.monotonic()
        self.tally = Tally()

    def event(self, e: Event) -> None:
        if not isinstance(e, Progress):
            self.tally.note(e)
            self.events.append((time.monotonic() - self.clock, e))

    def of(self, kind: type[E]) -> list[E]:
        """The events of one kind, in the order they came."""
        return [e for _, e in self.events if isinstance(e, kind)]

    def write(self) -> None:
        import json

        from tasks.core.files import atomic_write_text
        from tasks.core.urls import scrub

        atomic_write_text(self.path, json.dumps(scrub(self.document()), indent=2, sort_keys=True) + "\n")

    def document(self) -> dict[str, Any]:
        import sys

        errors = [{"task": e.task, "message": e.message} for e in self.of(Failed) if e.message]
        return {
            "report": REPORT_VERSION,
            "command": sys.argv[1:],
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.monotonic() - self.clock, 3),
            "ok": not errors,
            "error": errors[0]["message"] if errors else None,
            "errors": errors,
            "dry": flag("dry") or flag("check"),
            "offline": flag("offline"),
            "phases": self.phases(),
            "sources": self.sources(),
            "environments": self.environments(),
            "plan": self.plan(),
        }

    def plan(self) -> list[dict[str, Any]]:
        """A dry run's downloads and builds (what a CI matrix sizes itself from): one row per source."""
        return [
            {"package": e.package, "version": e.version, "action": e.message, "source": e.source}
            for e in self.of(Planned)
        ]

    def phases(self) -> dict[str, float]:
        """Seconds: prepare (first fetch or build until the first sync), then each sync's own phases."""
        found: dict[str, float] = defaultdict(float)
        for e in self.of(SyncSummary):
            found["prepare"] = max(found["prepare"], self.tally.prepared(e).seconds)
            for phase, seconds in e.phases:
                found[phase] += seconds
        return {k: round(v, 3) for k, v in found.items()}

    def sources(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, facts in _pinned_sources().items():
            out[name] = {**facts, **self._what_happened(name, facts["task"])}
        return out

    def _what_happened(self, package: str, task: str) -> dict[str, Any]:
        mine = [e for _, e in self.events if _concerns(e, package, f":{task}")]
        ran = {e.task for e in mine if isinstance(e, Started)}
        skipped = {e.task for e in mine if isinstance(e, SkippedCheck)}
        built = [e.filename for e in mine if isinstance(e, Built)]
        reused = [e.path for e in mine if isinstance(e, Reused)]
        metadata = next((_meta_path(e) for e in mine if _meta_path(e)), None)
        downloaded = sum(e.bytes for e in mine if isinstance(e, Downloaded))
        fresh, why = _freshness(task, ran, skipped, built, reused, downloaded)
        facts: dict[str, Any] = {"fresh": fresh, "why": why, "built": built, "reused": reused}
        facts.update({"metadata": metadata, "downloaded_bytes": downloaded})
        facts["verified"] = not any(isinstance(e, Unverified) for e in mine)  # its remote answered (or none)
        offline = [e.message for e in mine if isinstance(e, SkippedOffline)]
        if offline:
            facts["skipped_remote_checks"] = offline
        return facts

    def environments(self) -> dict[str, dict[str, Any]]:
        out = {}
        for e in self.of(SyncSummary):
            if not e.task:
                continue
            out[e.task] = {
                "path": e.path,
                "created": bool(e.created),
                "dry": bool(e.dry),
                "installed": [{"name": c.name, "version": c.version} for c in e.changes if c.op == "install"],
                "replaced": [
                    {"name": c.name, "old": c.old, "version": c.version}
                    for c in e.changes
                    if c.op == "replace"
                ],
                "removed": [{"name": c.name, "version": c.old} for c in e.changes if c.op == "remove"],
                "unchanged": e.count,
                "seconds": dict(e.phases),
            }
        return out


def _concerns(e: Event, package: str, task_suffix: str) -> bool:
    """Whether `e` is about the source `package`: it names the package, or a task of that source."""
    match e:
        case Started() | SkippedCheck():
            return e.task.endswith(task_suffix)
        case Built() | Reused() | Downloaded() | Unverified():
            return e.package == package
        case MetadataReady() | SkippedOffline():
            return e.package == package or (e.task or "").endswith(task_suffix)
    return False


def _meta_path(e: Event) -> str | None:
    """Where a built, reused or announced metadata.json is, when `e` says so."""
    match e:
        case Built() | Reused() if e.filename.endswith("metadata.json"):
            return e.path
        case MetadataReady() if e.path.endswith("metadata.json"):
            return e.path
    return None


def _freshness(
    task: str, ran: set[str], skipped: set[str], built: list[Any], reused: list[Any], got: int
) -> tuple[bool | None, str]:
    """Fresh or stale, and why, from what the tasks of one source did in this run."""
    if built:
        return False, "stale: no built wheel of its current revision for this interpreter, so it was built"
    if got:
        return False, "not in the cache: downloaded"
    if reused:
        return True, "revision unchanged: the built wheel and metadata.json in the cache were reused"
    if f"fetch:{task}" in skipped:
        return True, "unchanged since the last run: same lock line, same revision, cache entry present"
    if f"fetch:{task}" in ran:
        return True, "already in the cache"
    return None, "not looked at in this run"


def _pinned_sources() -> dict[str, dict[str, Any]]:
    """Each pin's kind, version, source and revision as far as known without the network."""
    from tasks.run.context import current_revisions, full_jobs

    try:
        jobs = full_jobs()
    except Exception:  # planning itself failed: the report says so through its errors
        return {}
    checked = current_revisions() if current_revisions.cache_info().currsize else {}
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        for pin in job.pins:
            task, source = job.task_names[pin.name], pin.line.source
            revision = checked.get(task) or source.offline_revision(pin.line.sha256s())
            out.setdefault(pin.name, {"task": task, "kind": source.kind, "version": pin.version})
            out[pin.name].update({"source": source.describe(), "revision": revision})
    return out
