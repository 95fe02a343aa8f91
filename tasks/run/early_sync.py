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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.eventkinds import Event
from tasks.core.events import emit, set_reporter
from tasks.run.outline import stamp

if TYPE_CHECKING:
    from tasks.run.early_noop import EnvRecord


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


def is_new(record: EnvRecord) -> bool:
    """The environment exists, made from the interpreter recorded, and holds no distribution yet."""
    if not record.base or base_of(record.path) != record.base:
        return False
    for site in record.sites:
        try:
            if any(e.name.endswith(".dist-info") for e in os.scandir(site)):
                return False
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


def entries_sound(record: EnvRecord) -> bool:
    """Every pin's unpacked wheel is in the cache and unchanged since it was unpacked."""
    from tasks.wheels.unpacked import entry_damage

    try:
        entries = [Path(values["unpacked"]) for values in record.pins.values()]
    except (KeyError, TypeError):
        return False
    return bool(entries) and all(entry_damage(entry) is None for entry in entries)


@dataclass(frozen=True)
class Synced:
    """An environment synced before doit: its events, and its record as it now stands (None: none)."""

    events: Held
    record: EnvRecord | None


def sync_new(records: Sequence[EnvRecord], cache: Path, link: str) -> dict[str, Synced] | None:
    """Sync each of `records`' new environments from the cache; None when one failed (doit runs then)."""
    from tasks.core.errors import WheelwrightError
    from tasks.run.sync_env import sync_into

    done: dict[str, Synced] = {}
    for record in records:
        held = Held()
        previous = set_reporter(held)
        try:
            sync_into(record.name, Path(record.path), record.base[0], cache, record.pins, link)
        except (WheelwrightError, OSError):
            return None
        finally:
            set_reporter(previous)
        done[record.name] = Synced(held, _recorded(record))
        _restamp_outline(record)
    return done


def _restamp_outline(record: EnvRecord) -> None:
    """The outline memo watches the environment's pyvenv.cfg and python: made again from the same
    interpreter, they plan the same outline (so the next full run need not plan again)."""
    from tasks.run.context import memo_key
    from tasks.run.outline import restamp

    if base_of(record.path) == record.base:
        restamp(
            memo_key(), [os.path.join(record.path, "pyvenv.cfg"), os.path.join(record.path, "bin", "python")]
        )


def _recorded(record: EnvRecord) -> EnvRecord | None:
    """`record` with the environment as this sync left it, when it equals the pins."""
    from tasks.run.early_noop import _equal_count, env_stamps

    stamped = env_stamps(record.path, record.sites)  # before the environment is read: a later change shows
    count = _equal_count(record.sites, record.pins)
    if count is None or base_of(record.path) != record.base:
        return None
    return replace(record, env=stamped, count=count)
