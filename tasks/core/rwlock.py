"""The cache-wide reader/writer lock (flock): every run shares the cache, a prune has it to itself.

Two lock files in `cache/locks-v0/`, taken with flock(2) (filelock has no shared mode):

* `cache.lock`: each `./doit` process holds it *shared* from the moment it knows its cache until
  it exits; a prune holds it *exclusive* while it removes entries.
* `cache-gate.lock`: taken exclusive, briefly, by a run before it takes its shared lock, and for
  the whole prune by a prune. So a prune waiting for running syncs to finish keeps new syncs out
  (no prune starves), and a sync that arrives during a prune waits and then runs on the pruned cache.

A prune first drops its own process's shared lock, so two prunes (or a prune and its own run)
never wait for each other in a cycle.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tasks.core.mutexes import NOTICE_AFTER, locks_dir, notice

LOCK_NAME = "cache.lock"
GATE_NAME = "cache-gate.lock"
_POLL = 0.05

# cache (absolute) → the fd this process holds shared. Process-wide by nature: flock(2) belongs to an
# open file, held for as long as the process (the run) lives (`share_cache`, called once by
# `tasks.stages.common.open_cache` as the run starts); a prune in the same process must release that
# very descriptor before it waits for the cache exclusively (`exclusive_cache`).
_shared: dict[str, int] = {}


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _flock(fd: int, operation: int, waiting: str, path: Path) -> None:
    """flock(2), saying `waiting` once when it has not been granted after NOTICE_AFTER seconds."""
    deadline = time.monotonic() + NOTICE_AFTER
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL)
    notice(waiting, path)
    fcntl.flock(fd, operation)


def share_cache(cache: Path) -> None:
    """Hold `cache` shared for the rest of this process (a run); waits while a prune has it."""
    key = str(cache.resolve())
    if key in _shared:
        return
    gate = _open(locks_dir(cache) / GATE_NAME)
    try:
        _flock(gate, fcntl.LOCK_EX, f"waiting for a prune of {cache} to finish", locks_dir(cache))
        fd = _open(locks_dir(cache) / LOCK_NAME)
        fcntl.flock(fd, fcntl.LOCK_SH)  # granted at once: whoever could hold it exclusive holds the gate
        _shared[key] = fd
    finally:
        os.close(gate)  # releases the gate


@contextlib.contextmanager
def exclusive_cache(cache: Path) -> Iterator[None]:
    """Have `cache` to ourselves: wait until every other run using it has finished, keep new ones out."""
    key = str(cache.resolve())
    fd = _shared.pop(key, None)
    if fd is None:
        fd = _open(locks_dir(cache) / LOCK_NAME)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)  # never wait for the gate while holding the lock shared
    gate = _open(locks_dir(cache) / GATE_NAME)
    try:
        _flock(gate, fcntl.LOCK_EX, f"waiting for another prune of {cache} to finish", locks_dir(cache))
        _flock(fd, fcntl.LOCK_EX, f"waiting for the runs using {cache} to finish", locks_dir(cache))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_SH)  # this process goes on as a run of its own
            _shared[key] = fd
    finally:
        os.close(gate)


def lock_files(cache: Path) -> frozenset[Path]:
    """The two lock files of this scheme: a prune never removes them."""
    return frozenset({locks_dir(cache) / LOCK_NAME, locks_dir(cache) / GATE_NAME})
