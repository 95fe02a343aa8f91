"""This process's run context: the command line's variables, the outline (for naming tasks) and, only when an
action or check needs it, the full plan, every built source's revision and what the run hands to the
library, each computed once.

What the run hands down, each made once from its configuration on first use (a no-op makes neither):

    network()       tasks.core.http.Network: the HTTP sessions, the credentials they send (made from
                    every index and find-links URL the configuration names), `offline=1`, `timeout=`
    shared_store()  tasks.source.remote.SharedCache: the shared build cache of `remote_cache=` /
                    `remote-cache:` (one with no location when there is none, or offline)

Library code (core, index, wheels, source, lock) never reaches for these: the run's actions pass them
down as arguments. They are per process because a process is one run: doit runs a run's tasks as
threads of it, which share one set of connections, one credential store, and one store that is
switched off for all of them after its first failure.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import layout
from tasks.inputs.variables import NAMES, value
from tasks.run.outline import Outline, Stamps, load_memo, load_stamped_memo, save_memo, without_credentials

if TYPE_CHECKING:
    from tasks.core.errors import SourceUnreachable
    from tasks.core.http import Network
    from tasks.inputs.config import Pipeline
    from tasks.inputs.requirements import IndexOptions
    from tasks.run.model import EnvJob, PinJob
    from tasks.source.remote import SharedCache

# How the run shows and acts, not what it plans: left out of the outline memo's key.
MODES = frozenset(
    {"quiet", "dry", "check", "report", "timings", "offline", "verbose", "remote_cache", "strict"}
    | {"shard", "dir", "days", "ci", "max-size", "remote", "truststore"}
)

_lock = threading.Lock()
_handing = threading.Lock()


def variables() -> dict[str, str]:
    """The `key=value` words given on the command line (each declared in tasks.inputs.variables)."""
    return {k: v for k in NAMES if (v := value(k))}


def asked_for(task: str) -> bool:
    """Whether the command line names `task` (or its group) itself, as `./doit build_meta:pkg` does."""
    import sys

    words = [w for w in sys.argv[1:] if "=" not in w and not w.startswith("-")]
    return task in words or task.partition(":")[0] in words


def flag(name: str) -> bool:
    """A yes/no variable (`dry=1`, `offline=yes`); `offline` is also on with pip's PIP_NO_INDEX."""
    given = (value(name) or "").strip().lower()
    if name == "offline" and not given:
        return _pip_no_index()
    return given not in ("", "0", "false", "no", "off")


def _pip_no_index() -> bool:
    """PIP_NO_INDEX=1 with no find-links: nothing could be fetched, so the run is offline."""
    import os

    no_index = os.environ.get("PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes", "on")
    return no_index and not os.environ.get("PIP_FIND_LINKS", "").strip()


def _shaping() -> dict[str, str]:
    """What shapes the outline: the variables, the user's directory and the pipeline.yaml found from it
    (without one, which default files the project has: requirements.txt or pylock.toml, and so on)."""
    from tasks.inputs.project import default_input, default_lock, find_config, project_dir, user_cwd

    config = find_config()
    where = {" cwd": str(user_cwd()), " config": str(config or "")}  # no variable starts with " "
    if config is None:
        project = project_dir(None)
        where[" defaults"] = f"{default_lock(project).name} {default_input(project).name}"
    return {k: v for k, v in variables().items() if k not in MODES} | where


def memo_key() -> str:
    """The key of this run's memos (its outline, its no-op record): what shapes the run."""
    from tasks.run.outline import outline_key

    return outline_key(_shaping())


@functools.cache
def pipeline() -> Pipeline:
    from tasks.inputs.config import load_pipeline
    from tasks.source.remote import parse_location

    loaded = load_pipeline(variables())
    parse_location(loaded.remote_cache)  # a malformed store URL is refused while the run loads
    return loaded


@functools.cache
def outline() -> Outline:
    """The task outline: from the memo when its inputs are unchanged, else planned afresh."""
    memo = load_stamped_memo(_shaping())
    if memo is not None:
        _planned_from[:] = memo[1]
        return memo[0]
    from tasks.run.model import outline_of  # parses the locks: off the no-op path

    planned, inputs = outline_of(pipeline(), list(full_jobs()))
    fresh = without_credentials(planned)  # the same keys whether planned or read from the memo
    if not any(env.error for env in fresh.envs):
        _planned_from[:] = save_memo(_shaping(), fresh, inputs)
        import atexit

        atexit.register(refresh_memo)
    return fresh


_planned_from: Stamps = []  # the stamps of the files this run's outline was read from


def outline_stamps() -> Stamps:
    """The files this run's outline was planned from, as they were then (empty: it was not memoized)."""
    outline()
    return list(_planned_from)


def refresh_memo() -> None:
    """At the end of a run that planned: plan once more when the run itself changed what the memo
    watches (the environment a sync created, a pin's recorded file), so the next run (CI's rerun)
    reads the memo instead of planning again. Any failure leaves that to the next run."""
    if load_memo(_shaping()) is not None:
        return
    try:
        from tasks.run.model import outline_of, plan_run

        planned, inputs = outline_of(pipeline(), list(plan_run(pipeline())))
        fresh = without_credentials(planned)
        if not any(env.error for env in fresh.envs):
            save_memo(_shaping(), fresh, inputs)
    except Exception:
        pass


def full_jobs() -> tuple[EnvJob, ...]:
    """Every environment's full plan (parses the locks); computed once, on first need."""
    with _lock:
        return _full_jobs()


@functools.cache
def _full_jobs() -> tuple[EnvJob, ...]:
    from tasks.run.model import plan_run  # parses the locks: off the no-op path

    return tuple(plan_run(pipeline()))


def cache_root() -> Path:
    return Path(outline().cache)


def read_timeout() -> float:
    """`timeout=SECONDS`: how long one read may wait for data (a usage error unless a positive number)."""
    from tasks.core.http import DEFAULT_READ_TIMEOUT, read_timeout_from

    given = value("timeout")
    if not given:
        return DEFAULT_READ_TIMEOUT
    try:
        return read_timeout_from(given)
    except ValueError:
        from tasks.core.errors import UsageError

        raise UsageError(f"timeout={given}: give a positive number of seconds") from None


def network() -> Network:
    """The run's network: made once, shared by every action and thread of the run."""
    with _handing:  # doit's threads ask at once: one network for all of them
        return _network()


@functools.cache
def _network() -> Network:
    from tasks.core.auth import Credentials
    from tasks.core.http import Network
    from tasks.inputs.config import index_urls

    credentials = Credentials.from_urls(index_urls(_index_layers()))
    return Network(credentials, offline=flag("offline"), read_timeout=read_timeout())


def _index_layers() -> list[IndexOptions]:
    """Every layer of index options the run reads (pip's configuration, pipeline.yaml's, the locks'),
    lowest precedence first, each once."""
    from tasks.inputs.config import pip_index_options

    layers = [pip_index_options(), *(spec.index for spec in pipeline().envs)]
    layers += [layer for job in full_jobs() for pin in job.pins for layer in pin.index_layers]
    return list(dict.fromkeys(layers))


def shared_store() -> SharedCache:
    """The run's shared build cache (off while offline: `offline=1` opens no connection)."""
    with _handing:  # one store for every build thread: its first failure switches it off for all
        return _shared_store()


@functools.cache
def _shared_store() -> SharedCache:
    from tasks.source.remote import SharedCache, parse_location

    location = None if flag("offline") else parse_location(pipeline().remote_cache)
    return SharedCache(location)


# Process-wide: where this run keeps its own records when the cache is read-only (tasks.run.readonly).
# Set once, by `tasks.stages.common.open_cache` while the run starts (`use_state_home`), before any
# task runs; read only here (`state_root`), which hands the directory to the code that writes there.
_state_home: list[Path] = []


def use_state_home(path: Path) -> None:
    """Keep this run's own records in `path`: the cache is read-only."""
    _state_home[:] = [path]


def read_only_cache() -> bool:
    return bool(_state_home)


def state_root() -> Path:
    """Where this run keeps its own records (doit's state, locks, logs, confirmed revisions): the
    cache, or the per-user directory that stands in for a read-only cache."""
    return _state_home[0] if _state_home else cache_root()


def state_relative() -> Path:
    """doit's task state, relative to the cache: one per project, because task names (`sync:default`,
    `fetch:requests`) repeat across projects that share a cache."""
    from tasks.core.urls import digest

    memo = outline()
    return Path(layout.STATE.name) / digest(memo.project or memo.cache) / layout.DOIT_STATE.name


def state_file() -> str:
    """doit's task state, kept with the cache (so CI persists both), or in the state home that stands in
    for a read-only cache."""
    state = state_root() / state_relative()
    state.parent.mkdir(parents=True, exist_ok=True)
    return str(state)


def pin_job(task: str) -> PinJob:
    for job in full_jobs():
        for pin in job.pins:
            if job.task_names[pin.name] == task:
                return pin
    raise LookupError(task)


def env_job(name: str) -> EnvJob:
    return next(job for job in full_jobs() if job.spec.name == name)


@functools.cache
def current_revisions() -> dict[str, str | None]:
    """Every built source's revision upstream, all checked at once (one round trip of wall time).

    Computed once per run: doit's `uptodate` checks compare against it and the fetch actions
    build exactly that revision, so no source is checked upstream twice.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tasks.core.errors import SourceUnreachable
    from tasks.run.degrade import confirm, confirmed_this_run

    pins = {job.task_names[p.name]: p for job in full_jobs() for p in job.pins if p.known_kind == "sdist"}
    offline, net = flag("offline"), network()

    def check(task: str, pin: PinJob) -> str | None:
        if offline and pin.line.source.kind != "path":  # a local tree's digest needs no network
            return pin.line.source.offline_revision(pin.line.sha256s())
        known = confirmed_this_run(pin.line.source.describe()) if pin.line.source.remote_url else None
        if known is not None:
            return known  # asked before doit started (tasks.run.early_noop)
        from tasks.source.kinds import build_source  # not tasks.source.build: a check needs no builder

        try:
            revision = build_source(
                pin.name, pin.line.source, cache_root(), net, hashes=pin.line.sha256s()
            ).revision()
        except SourceUnreachable as exc:  # the remote is down: the revision last confirmed may stand in
            return _stand_in(task, pin, exc)
        except Exception:  # the task's own action reports the error
            return None
        if pin.line.source.remote_url is not None:
            confirm(state_root(), pin.line.source.describe(), revision)
        return revision

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {task: pool.submit(check, task, pin) for task, pin in pins.items()}
    return {task: future.result() for task, future in futures.items()}


def _stand_in(task: str, pin: PinJob, error: SourceUnreachable) -> str | None:
    from tasks.run.degrade import last_confirmed, stand_in
    from tasks.source.build import revision_cached

    source = pin.line.source
    records = [last_confirmed(root, source.describe()) for root in {state_root(), cache_root()}]
    last = max((r for r in records if r is not None), key=lambda r: r.at, default=None)  # a baked cache's too
    cached = last is not None and revision_cached(pin.name, source, cache_root(), last.revision, network())
    return stand_in(task, error, last, cached=cached, strict=flag("strict"))
