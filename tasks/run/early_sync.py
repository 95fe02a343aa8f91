"""A sync into a new environment decided before doit starts: every pin's wheel linked from the cache.

When the lock side and every upstream revision are as the last sync recorded them (tasks/run/early_noop.py)
but the environment is not, and that environment is new (made again from the same interpreter, holding
no distribution yet), the run needs no task graph: each pin task would be up to date, and the sync
installs what the record kept of their values. It goes through the one sync (`tasks.run.sync_env.
sync_into`: the same plan, install and events), its events held until the run's views are chosen, and
records the environment for the next no-op.

Anything else is doit's, as before: an environment with distributions in it (edited by hand, another
lock's), one made from another interpreter or not there at all, a cache entry missing or damaged, a
record of an older version. A failure while installing (a cache entry damaged meanwhile) drops the held
events and lets doit run, which heals it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tasks.core.eventkinds import Event
from tasks.core.events import emit, set_reporter
from tasks.run.outline import stamp


class Held:
    """The events of a sync made before the run's views exist, kept to be shown by them."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def event(self, e: Event) -> None:
        self.events.append(e)

    def replay(self) -> None:
        for e in self.events:
            emit(e)


def base_of(path: str) -> list[str]:
    """The interpreter an environment was made from, and its stamp ([] when it names none)."""
    from tasks.envs.interpreter import venv_base

    base = venv_base(Path(path))
    if base is None:
        return []
    real = os.path.realpath(base)
    return [real, stamp(Path(real))]


def is_new(path: str, sites: Sequence[str], base: Sequence[str]) -> bool:
    """The environment exists, made from the interpreter `base` names, and holds no distribution yet."""
    if not base or base_of(path) != list(base):
        return False
    for site in sites:
        try:
            if any(e.name.endswith(".dist-info") for e in os.scandir(site)):
                return False
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


def sync_from_cache(
    name: str, path: str, base: Sequence[str], cache: Path, pins: Mapping[str, Mapping[str, Any]], link: str
) -> Held | None:
    """Sync the new environment `name` to `pins` (tasks.run.sync_env.sync_into), its events held; None when
    it failed (doit runs then, and heals what it can). sync_into checks every entry before it installs
    anything, and with nothing here to fetch again, a damaged one fails it with the environment untouched."""
    from tasks.core.errors import WheelwrightError
    from tasks.run.sync_env import sync_into

    held = Held()
    previous = set_reporter(held)
    try:
        sync_into(name, Path(path), base[0], cache, pins, link)
    except (WheelwrightError, OSError):
        return None
    finally:
        set_reporter(previous)
    _restamp_outline(path, base)
    return held


def _restamp_outline(path: str, base: Sequence[str]) -> None:
    """The outline memo watches the environment's pyvenv.cfg and python: made again from the same
    interpreter, they plan the same outline (so the next full run need not plan again)."""
    from tasks.run.context import memo_key
    from tasks.run.outline import restamp

    if base_of(path) == list(base):
        restamp(memo_key(), [os.path.join(path, "pyvenv.cfg"), os.path.join(path, "bin", "python")])
