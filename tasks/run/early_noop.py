"""A `sync` with nothing to do, decided before doit starts: what each environment's last sync left, checked.

A sync that finds (or leaves) its environment equal to its lock records it, one memo per outline key
(`noops-v0/<key>.json`, beside the outline memos), one record per environment:

- the lock side: the stamps of the files the run's outline was planned from (locks and their
  includes, pipeline.yaml, pip's configuration) as they were then; the environments' and the cache's
  own files are left out (the run itself changes them);
- the environment: stamps of what its quick check reads (pyvenv.cfg, its python, each site directory,
  each distribution's METADATA, RECORD and direct_url.json), taken before the check read them;
- each source built from a URL or a git ref: the source and the revision installed.

The next plain `sync` (tasks/__main__.py) asks `nothing_to_do` first. While the lock side is the
same, the remote checks go out at once (`git ls-remote` subprocesses, conditional GETs on a socket:
tasks/core/conditional.py); when the environment is the same too and each check answers the revision
installed, the run reports what a doit no-op reports (the same events) and ends: doit, the planner,
packaging's parsers, requests and GitPython are never imported.

Anything else lets doit run exactly as before: a changed stamp, a new commit, a 200, a remote that did
not answer, a source this path does not check (a local path, credentials in a URL, a proxy, `.netrc`),
a variable that changes what a run does (dry, check, offline, report, timings, verbose, shard,
truststore), a doit option, another task, doit's task state changed by `forget`, `reset-dep`,
`ignore` or `clean` (each removes the records), a read-only cache, doit's task state damaged (the full path
removes it, with its warning). The revisions the checks did learn are
recorded as confirmed (`tasks.run.degrade.confirm`), and doit's checks take them instead of asking
again; so a new commit, or a sync into a new environment, costs no second round of checks and imports
neither requests nor the source kinds to make them.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.eventkinds import Finished, ProjectUsed, SkippedCheck, Started, SyncSummary
from tasks.core.events import emit
from tasks.core.files import atomic_write_text
from tasks.run.context import flag, memo_key, variables
from tasks.run.noop_checks import Check, all_unchanged, check_timeout, checks_of
from tasks.run.outline import Stamps, memo_dir, stamp

if TYPE_CHECKING:
    from tasks.run.early_sync import Held
    from tasks.run.outline import EnvOutline, Outline, PinOutline

VERSION = "noop-v2"
# What a no-op cannot honour without doit: any of these given sends the run down the full path.
DECLINED = ("dry", "check", "offline", "verbose", "report", "timings", "shard", "remote", "dir", "days",
            "ci", "max-size")  # fmt: skip
# doit's commands that change its task state: the records rest on that state, so they go with it.
STATE_COMMANDS = ("forget", "reset-dep", "ignore", "clean")
FLAGS = ("dry", "check", "offline", "verbose")  # yes/no variables (`offline` also PIP_NO_INDEX)
DIST_FILES = ("METADATA", "RECORD", "direct_url.json")
PIN_VALUES = (
    "name",
    "version",
    "filename",
    "sha256",
    "unpacked",
    "direct_url",
    "revision",
)  # what a sync installs  # what the quick check reads of a distribution


@dataclass(frozen=True)
class EnvRecord:
    """One environment as its last sync left it equal to its lock."""

    name: str
    path: str
    sites: list[str]
    inputs: Stamps  # the lock side
    env: Stamps  # what the quick check reads
    count: int  # the distributions it audits
    tasks: list[str]  # the pin tasks doit would find up to date
    checks: list[Check]
    pins: dict[str, Any]  # their values, as the sync task was handed them (`pin0`, `pin1`, …)
    base: list[str]  # the interpreter the environment was made from, and its stamp (tasks.run.early_sync)


# --- the record, written by the sync action (doit running) -----------------------------------------

_writing = threading.Lock()


def env_stamps(path: str, sites: Sequence[str]) -> Stamps:
    """Stamps of what `already_synced` reads of an environment (and its interpreter)."""
    files = [Path(path) / "pyvenv.cfg", Path(path) / "bin" / "python"]
    found = []
    for site in sites:
        found.append((site, stamp(Path(site))))
        try:
            names = sorted(e.name for e in os.scandir(site) if e.name.endswith(".dist-info"))
        except OSError:
            continue
        files += [Path(site) / name / part for name in names for part in DIST_FILES]
    return found + [(str(p), stamp(p)) for p in files]


def remember(env: EnvOutline, outlined: Sequence[PinOutline], pins: Mapping[str, Any]) -> None:
    """Record `env` if it equals its lock now (checked again here); any other outcome removes its record.

    `outlined` are the environment's pins in the order of `pins` (its tasks' values: `pin0`, `pin1`, …)."""
    from tasks.run.context import outline, outline_stamps

    memo = outline()
    try:
        record = _record(env, outlined, pins, memo, outline_stamps())
    except Exception:  # a memo never fails the sync that writes it: the next run takes the full path
        record = None
    with _writing:
        _store(memo, env.name, record)


def _record(
    env: EnvOutline, outlined: Sequence[PinOutline], pins: Mapping[str, Any], memo: Outline, planned: Stamps
) -> EnvRecord | None:
    sites = env.sites or _sites_now(env.name)
    if not planned or not sites:
        return None
    stamped = env_stamps(env.path, sites)  # before the environment is read: a later change shows
    count = _equal_count(sites, pins)
    checks = checks_of(outlined, pins)
    if count is None or checks is None:
        return None
    from tasks.run.early_sync import base_of

    tasks = [f"{step}:{pin.task}" for pin in outlined for step in _steps(Path(memo.cache), pin)]
    inputs = _lock_side(planned, memo)
    values = {key: {k: v for k, v in value.items() if k in PIN_VALUES} for key, value in pins.items()}
    return EnvRecord(
        env.name, env.path, list(sites), inputs, stamped, count, tasks, checks, values, base_of(env.path)
    )


def _sites_now(name: str) -> list[str]:
    """The site directories of an environment this run created (the outline was planned before it existed)."""
    from tasks.run.context import cache_root, env_job
    from tasks.run.model import target_interpreter

    spec = env_job(name).spec
    if spec.path is None or not (spec.path / "pyvenv.cfg").is_file():
        return []
    interp = target_interpreter(spec, cache_root())  # its facts, as the sync just probed them
    return sorted({interp.paths["purelib"], interp.paths["platlib"]})


def _equal_count(sites: Sequence[str], pins: Mapping[str, Any]) -> int | None:
    """How many distributions the environment keeps, when it equals the pins; None otherwise."""
    from tasks.core.errors import InstallError
    from tasks.envs.venv import installed_distributions
    from tasks.plan.planner import plan_sync, wanted_from_values

    try:
        wanted = wanted_from_values(pins)
    except InstallError:
        return None
    plan = plan_sync(installed_distributions([Path(s) for s in sites]), wanted)
    return len(plan.keep) if plan.is_empty else None


def _steps(cache: Path, pin: PinOutline) -> tuple[str, ...]:
    """The pin's tasks as the next run plans them: an index pin planned before its first fetch (kind
    unknown) has build tasks in this run's outline, and none once its recorded file is a wheel."""
    from tasks.run.pinkind import kind_of

    return ("fetch",) if kind_of(cache, pin) == "wheel" else ("fetch", "build_meta", "build_wheel")


def _lock_side(planned: Stamps, memo: Outline) -> Stamps:
    """The planned stamps without the files the run itself changes: the environments' and the cache's."""
    own = tuple(os.path.join(p, "") for p in [memo.cache, *(e.path for e in memo.envs)] if p)
    return [(p, s) for p, s in planned if not p.startswith(own)]


def _store(memo: Outline, name: str, record: EnvRecord | None) -> None:
    from tasks.core.urls import scrub
    from tasks.run.context import state_relative
    from tasks.run.outline import project_line

    path = _memo_path()
    before = _read(path) or {}
    same_run = before.get("version") == VERSION and before.get("project") == project_line(memo)
    records = dict(before.get("records") or {}) if same_run else {}
    if record is None:
        records.pop(name, None)
    else:
        records[name] = scrub(json.loads(json.dumps(asdict(record))))
    data = {
        "version": VERSION,
        "project": project_line(memo),
        "cache": memo.cache,
        "state": str(state_relative()),
        "envs": [e.name for e in memo.envs],
        "records": records,
    }
    if data == before:
        return  # as recorded: a no-op run writes nothing
    with contextlib.suppress(OSError):  # a memo: without it, the next run takes the full path
        atomic_write_text(path, json.dumps(data))


def _memo_path() -> Path:
    return memo_dir().parent / layout.NO_OPS.name / f"{memo_key()}.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- the decision, before doit starts ---------------------------------------------------------------


@dataclass(frozen=True)
class NoOp:
    """A run with nothing for doit to do: what it says. An environment in `synced` was new and has been
    synced from the cache before doit (tasks/run/early_sync.py): its held events are shown instead."""

    project: str
    records: list[EnvRecord]
    seconds: list[float]  # each environment's check
    group: bool  # `sync` (the group task) rather than `sync:<env>`
    synced: Mapping[str, Synced] = field(default_factory=dict)

    def report(self) -> None:
        """The events a doit run reports: the project, the fresh tasks, each environment's sync."""
        emit(ProjectUsed(self.project))
        for record, seconds in zip(self.records, self.seconds, strict=True):
            for task in record.tasks:
                emit(SkippedCheck(task=task))
            emit(Started(task=f"sync:{record.name}"))
            if record.name in self.synced:
                self.synced[record.name].events.replay()
            else:
                emit(SyncSummary(task=record.name, path=record.path, count=record.count, created=False,
                                 seconds=seconds))  # fmt: skip
            emit(Finished(task=f"sync:{record.name}"))
        if self.group:
            emit(Started(task="sync"))
            emit(Finished(task="sync"))


def nothing_to_do(argv: Sequence[str]) -> NoOp | None:
    """The no-op, when `argv` is a plain sync and nothing changed here or upstream; None: doit runs.

    The command line's variables must already be readable (`tasks.inputs.variables.read_before_doit`)."""
    words = [arg for arg in argv if "=" not in arg or arg.startswith("-")]
    target = words[0] if len(words) == 1 else "sync" if not words else ""
    if words and words[0] in STATE_COMMANDS:
        with contextlib.suppress(OSError):
            _memo_path().unlink(missing_ok=True)  # the next sync goes through doit and records again
        return None
    if (target != "sync" and not target.startswith("sync:")) or declined():
        return None
    data = _read(_memo_path())
    if data is None or data.get("version") != VERSION:
        return None
    names = data["envs"] if target == "sync" else [target.partition(":")[2]]
    try:
        records = [_from_json(data["records"][name]) for name in names]
    except (KeyError, TypeError, ValueError):
        return None
    return _decided(data, records, group=target == "sync")


def declined() -> bool:
    """Whether the command line's variables (or WHEELWRIGHT_TRUSTSTORE, PIP_NO_INDEX) ask for what only
    the full path does."""
    from tasks.core import truststore_switch

    given = variables()
    if any(flag(name) if name in FLAGS else name in given for name in DECLINED):
        return True
    if "timeout" in given and check_timeout() is None:
        return True  # the full path says what is wrong with it
    return truststore_switch.wanted(given.get("truststore"))


def _from_json(data: dict[str, Any]) -> EnvRecord:
    checks = [Check(**check) for check in data.pop("checks")]
    inputs, env = ([(p, s) for p, s in data.pop(key)] for key in ("inputs", "env"))
    return EnvRecord(**data, inputs=inputs, env=env, checks=checks)


def _decided(data: dict[str, Any], records: list[EnvRecord], *, group: bool) -> NoOp | None:
    """The no-op when nothing changed. While the lock is the same, the remote checks are made even when
    an environment changed (a new one, say): a new environment is then synced from the cache here
    (tasks/run/early_sync.py), and anything else goes to the full path, which takes their answers."""
    if not records or any(_changed(record.inputs) for record in records):
        return None
    seconds, changed = [], []
    for record in records:
        started = time.perf_counter()
        if env_stamps(record.path, record.sites) != record.env:
            changed.append(record)
        seconds.append(time.perf_counter() - started)
    cache, state = Path(data["cache"]), Path(data["state"])
    if not _cache_writable(cache, state):
        return None  # the full path keeps this run's records in a state directory of its own, and says so
    if not _state_readable(cache / state):
        return None  # the full path removes it, and says so
    unchanged = all_unchanged([check for record in records for check in record.checks], cache)
    if not unchanged or (changed and not _all_new(changed)):
        return None
    synced = _synced_new(changed, cache) if changed else {}
    if synced is None:
        return None
    if synced:
        _store_synced(data, synced)
    return NoOp(str(data["project"]), records, seconds, group, synced)


def _all_new(records: list[EnvRecord]) -> bool:
    from tasks.run.early_sync import is_new

    return all(is_new(r.path, r.sites, r.base) for r in records)


@dataclass(frozen=True)
class Synced:
    """An environment synced before doit: its events, and its record as it now stands (None: none)."""

    events: Held
    record: EnvRecord | None


def _synced_new(records: list[EnvRecord], cache: Path) -> dict[str, Synced] | None:
    """Each new environment synced from the cache (tasks/run/early_sync.py); None when one failed."""
    from tasks.core.errors import ConfigError
    from tasks.plan.noop import link_mode
    from tasks.run.early_sync import sync_from_cache

    try:
        link = link_mode(variables().get("link"))
    except ConfigError:
        return None  # the full path says what is wrong with it
    done = {}
    for record in records:
        held = sync_from_cache(record.name, record.path, record.base, cache, record.pins, link)
        if held is None:
            return None
        done[record.name] = Synced(held, _synced_record(record))
    return done


def _synced_record(record: EnvRecord) -> EnvRecord | None:
    """`record` with the environment as the sync left it, when it equals the pins."""
    from dataclasses import replace

    from tasks.run.early_sync import base_of

    stamped = env_stamps(record.path, record.sites)  # before the environment is read: a later change shows
    count = _equal_count(record.sites, record.pins)
    if count is None or base_of(record.path) != record.base:
        return None
    return replace(record, env=stamped, count=count)


def _store_synced(data: dict[str, Any], synced: Mapping[str, Synced]) -> None:
    """The records of the environments synced here, as they now stand (or gone), for the next no-op."""
    from tasks.core.urls import scrub

    records = dict(data["records"])
    for name, done in synced.items():
        if done.record is None:
            records.pop(name, None)
        else:
            records[name] = scrub(json.loads(json.dumps(asdict(done.record))))
    with contextlib.suppress(OSError):  # a memo: without it, the next run takes the full path
        atomic_write_text(_memo_path(), json.dumps({**data, "records": records}))


SQLITE_HEADER = b"SQLite format 3\x00"


def _state_readable(path: Path) -> bool:
    """Whether doit's task state looks like sqlite's (absent or empty is fine: doit makes it)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return not head or head == SQLITE_HEADER


def _changed(stamps: Stamps) -> bool:
    return any(stamp(Path(p)) != s for p, s in stamps)


def _cache_writable(cache: Path, state: Path) -> bool:
    from tasks.core.rwlock import share_cache
    from tasks.run.readonly import writable

    if not writable(cache, state):
        return False
    share_cache(cache)  # held until exit, as a doit run holds it: a prune waits
    return True
