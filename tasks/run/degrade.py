"""A source whose remote is down: the revision last confirmed upstream stands in, with one warning.

Each successful revision check of a git or URL source is recorded (`confirmed-v0/<digest>.json`
in the run's state directory: the source, the revision and when). When the remote later does not
answer at all (refused, no such host, timed out, 502/503/504: `SourceUnreachable`; a "not found"
or a denial is an answer and stays an error) and the cache still holds that revision's tree, the
run uses it: one `unverified` event (a warning naming the source, the revision and when it was
last confirmed), and the JSON report marks the source `"verified": false`. `strict=1` makes it an
error; so does a cache without that revision.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tasks.core import layout
from tasks.core.errors import SourceUnreachable
from tasks.core.eventkinds import Unverified
from tasks.core.events import emit
from tasks.core.files import atomic_write_text
from tasks.core.urls import digest, scrub_text

RECORDS = layout.CONFIRMED.name

# task → why its source's remote check failed for good. Carried from a task's uptodate check to the
# same task's action within this process (doit gives no channel between the two): written by
# `stand_in`, read by `raise_refused`, both called by the run layer only.
_lock = threading.Lock()
_refused: dict[str, SourceUnreachable] = {}
# source (as described) → the revision its remote answered earlier in this process. Carried from the
# checks made before doit starts (tasks/run/early_noop.py) to the run's own checks
# (`tasks.run.context.current_revisions`), so that no remote is asked twice in one run: written by
# `confirm`, read by `confirmed_this_run`.
_this_run: dict[str, str] = {}


@dataclass(frozen=True)
class Confirmed:
    """The revision a source's remote last answered with, and when (seconds since the epoch)."""

    revision: str
    at: float

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.at))


def _record_path(state: Path, source: str) -> Path:
    return state / RECORDS / f"{digest(scrub_text(source))}.json"


def confirm(state: Path, source: str, revision: str) -> None:
    """Record that `source` was at `revision` upstream just now (a failure to record is not the run's)."""
    data = {"source": scrub_text(source), "revision": revision, "at": time.time()}
    with _lock:
        _this_run[scrub_text(source)] = revision
    with contextlib.suppress(OSError):
        atomic_write_text(_record_path(state, source), json.dumps(data))


def confirmed_this_run(source: str) -> str | None:
    """The revision `source`'s remote answered earlier in this process (the checks made before doit
    started, tasks/run/early_noop.py), so that no source is asked twice in one run."""
    with _lock:
        return _this_run.get(scrub_text(source))


def last_confirmed(state: Path, source: str) -> Confirmed | None:
    try:
        data = json.loads(_record_path(state, source).read_text())
        return Confirmed(str(data["revision"]), float(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stand_in(
    task: str, error: SourceUnreachable, last: Confirmed | None, *, cached: bool, strict: bool
) -> str | None:
    """The revision to use for a source whose remote is down, said once; None (the error kept) when
    `strict`, when nothing was confirmed before, or when the cache lacks that revision."""
    if last is None or not cached or strict:
        why = (
            "no build of a revision confirmed earlier is in the cache"
            if last is None or not cached
            else f"strict=1: the cached build of {last.revision[:12]} is not used"
        )
        refused = SourceUnreachable(f"{error.cause} ({why})", package=error.package, source=error.source)
        with _lock:
            _refused[task] = refused
        return None
    message = (
        f"{error}; using the build of {last.revision[:12]}, last confirmed {last.when()}"
        " (strict=1 makes this an error)"
    )
    emit(Unverified(scrub_text(message), package=error.package, source=error.source))
    return last.revision


def raise_refused(task: str) -> None:
    """In the fetch action: the remote check's own error, when its source could not stand in."""
    with _lock:
        error = _refused.get(task)
    if error is not None:
        raise error
