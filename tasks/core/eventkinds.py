"""The kinds of event a run reports: one small frozen record per kind, each with only its own fields.

`tasks/core/events.py` is the channel (`emit`, `warn`, the reporter); this module says what travels
on it. Every kind derives from `Event`, names itself in `kind` (the `"kind"` of its JSON line) and
declares its fields like a frozen dataclass: a field a kind always has is never Optional, so a view
that matches on the type reads only what that kind carries (mypy --strict checks it). `as_json()`
is the event's line in the events file (`WHEELWRIGHT_EVENTS`): `kind`, then each field that is
neither None nor left at its default (a flag left False, no changes), as it has always been.

Each kind is a `Record` (`tasks/core/record.py`), not a `@dataclass`: every run imports all of
them, the no-op too, and as dataclasses they cost over twenty times more (`bench/event_kinds.py`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from tasks.core.record import Record


class Change(Record):
    """One line of a sync's plan: install (version), replace (old → version) or remove (old)."""

    op: Literal["install", "replace", "remove"]
    name: str
    version: str | None = None
    old: str | None = None

    def as_json(self) -> dict[str, object]:
        return self.non_default_fields()  # op and name, then version and old when set


class Event(Record):
    """Something that happened in a run; each kind is a subclass with its own fields."""

    kind: ClassVar[str]

    def __init_subclass__(cls) -> None:
        if "kind" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} names no kind")
        super().__init_subclass__()

    def as_json(self) -> dict[str, object]:
        """The event as a JSON object: its kind, then each field that is neither None nor its default."""
        return {"kind": self.kind, **self.non_default_fields()}


def _with_changes(event: Event, changes: tuple[Change, ...]) -> dict[str, object]:
    """`Event.as_json` with each change as its own object (no `changes` when there are none)."""
    data = Event.as_json(event)
    data.pop("changes", None)
    if changes:
        data["changes"] = [c.as_json() for c in changes]
    return data


# --- a task's life (doit's callbacks) -------------------------------------------------------------


class Started(Event):
    """A task's actions begin."""

    kind = "started"
    task: str


class Finished(Event):
    """A task's actions ended well (a task that failed reports `Failed`)."""

    kind = "finished"
    task: str


class SkippedCheck(Event):
    """A task doit skipped: its uptodate check passed."""

    kind = "skipped_check"
    task: str


class Failed(Event):
    """A task failed, or the run failed before any task (no task then)."""

    kind = "failed"
    message: str
    task: str | None = None


class ProjectUsed(Event):
    """A run's first line: the project, its pipeline.yaml (or the defaults), lock -> environment."""

    kind = "project"
    message: str


# --- what happened to a source --------------------------------------------------------------------


class Progress(Event):
    """A download under way, a few times a second (bytes so far; `message`: why it starts again)."""

    kind = "progress"
    package: str
    filename: str
    bytes: int
    total: int | None = None  # the download's size, when the server said it
    message: str | None = None


class Downloaded(Event):
    """A file fetched into the cache (`path`: where the shared store's wheel went)."""

    kind = "downloaded"
    package: str
    filename: str
    source: str
    bytes: int
    seconds: float | None = None
    path: str | None = None


class Building(Event):
    """A build begins (`filename`: metadata.json or wheel)."""

    kind = "building"
    package: str
    source: str
    filename: str


class Built(Event):
    """A source's metadata.json or wheel built (`log`: the build backend's log file)."""

    kind = "built"
    package: str
    source: str
    filename: str
    path: str
    seconds: float
    log: str | None = None


class Reused(Event):
    """A source's metadata.json or built wheel taken from the cache."""

    kind = "reused"
    package: str
    source: str
    filename: str
    path: str


class MetadataReady(Event):
    """build_meta's result: where the source's metadata.json is (`message="asked"`: the user ran it)."""

    kind = "metadata"
    task: str
    package: str
    path: str
    message: Literal["asked"] | None = None


class BackendOutput(Event):
    """With verbose=1 only: one line of a build backend's output, live."""

    kind = "output"
    package: str
    message: str


# --- what happened to an environment or a lock ------------------------------------------------------


class Installing(Event):
    """A sync starts changing an environment (`count`: distributions)."""

    kind = "installing"
    path: str
    count: int


class DistInstalled(Event):
    """A wheel installed into an environment."""

    kind = "installed"
    package: str
    version: str
    filename: str
    path: str


class DistRemoved(Event):
    """A distribution removed from an environment."""

    kind = "removed"
    package: str
    version: str
    path: str


class SyncSummary(Event):
    """A sync's result (`count`: unchanged; `phases`: seconds per phase; `dry`: nothing done)."""

    kind = "summary"
    task: str
    path: str
    count: int
    created: bool
    seconds: float
    changes: tuple[Change, ...] = ()
    phases: tuple[tuple[str, float], ...] = ()
    dry: bool = False

    def as_json(self) -> dict[str, object]:
        data = _with_changes(self, self.changes)
        if self.phases:
            data["phases"] = dict(self.phases)
        return data


class Planned(Event):
    """Dry run: a source a sync would download or build."""

    kind = "planned"
    package: str
    version: str
    message: Literal["download", "build"]
    source: str


class Differs(Event):
    """check=1: the environment differs from the lock."""

    kind = "differs"
    task: str
    path: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, object]:
        return _with_changes(self, self.changes)


class Locked(Event):
    """A lock resolved (`count`: pins; `dry`: nothing written; `message`: why the text differs)."""

    kind = "locked"
    task: str
    path: str
    count: int
    seconds: float
    changes: tuple[Change, ...] = ()
    dry: bool = False
    created: bool = False
    message: str | None = None

    def as_json(self) -> dict[str, object]:
        return _with_changes(self, self.changes)


class WheelhouseFilled(Event):
    """`wheelhouse`: a directory filled with an environment's wheels."""

    kind = "wheelhouse"
    task: str
    path: str
    count: int


# --- what the run says on the side -----------------------------------------------------------------


class Warned(Event):
    """Something wrong that did not fail the run (a yanked pin names itself; a moved state its path)."""

    kind = "warning"
    message: str
    package: str | None = None
    version: str | None = None
    path: str | None = None


class Waiting(Event):
    """Waiting for another process (on the lock at `path`)."""

    kind = "waiting"
    message: str
    path: str | None = None


class SkippedOffline(Event):
    """A remote check skipped because the run is offline (a source's, or a lock's index revalidation)."""

    kind = "offline"
    message: str
    package: str | None = None
    source: str | None = None
    task: str | None = None


class Unverified(Event):
    """A source's remote is down: its last confirmed revision is used."""

    kind = "unverified"
    message: str
    package: str | None = None
    source: str | None = None


# --- the cache -----------------------------------------------------------------------------------


class CacheUsage(Event):
    """`./doit cache`: the total (`path` = the cache, no message), then each family (`message`: what)."""

    kind = "cache_usage"
    path: str
    bytes: int
    count: int
    message: str | None = None


class Pruned(Event):
    """`./doit prune` removed a cache entry (`bytes` freed, `message`: why)."""

    kind = "pruned"
    path: str
    bytes: int
    message: str


class PruneDone(Event):
    """`./doit prune` finished (`path` = the cache, `count` = entries removed, `bytes` freed)."""

    kind = "prune_done"
    path: str
    count: int
    bytes: int
    message: str
