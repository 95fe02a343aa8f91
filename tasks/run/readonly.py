"""A read-only cache (a CI image's baked layer): the run's own writes go to a per-user state directory.

When the cache cannot be written (a read-only mount, no permission), a run keeps what it writes
for itself there instead: doit's task state (seeded with a copy of the cache's own, so a warm
cache stays warm), the lock files, the logs and the record of confirmed revisions. The directory
is `$XDG_STATE_HOME/wheelwright/<digest of the cache's path>`, else
`~/.local/state/wheelwright/<digest>`; one line says so. Everything a sync reads still comes from
the cache; a sync that would have to write there (a cold cache) fails in one line naming it.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from pathlib import Path

from tasks.core.urls import digest

_SEEDED = "seeded-from"  # the stamp of the cache's state file the copy was made from
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def writable(cache: Path, state: Path) -> bool:
    """Whether this process can create files in `cache` and write its doit state (`state`, relative to
    the cache) there."""
    probe = cache / f".write-check-{os.getpid()}-{threading.get_ident()}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        os.unlink(probe)
        if (cache / state).exists():
            os.close(os.open(cache / state, os.O_WRONLY))
    except OSError:
        return False
    return True


def user_state_dir(cache: Path) -> Path:
    """The per-user directory that stands in for a read-only `cache` (one per cache path)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "wheelwright" / digest(str(cache.resolve()))


def seed_state(cache: Path, home: Path, state: Path) -> None:
    """Copy the cache's doit state (`state`, relative) into `home` when there is no copy yet or the
    cache's has changed."""
    from tasks.core.files import atomic_write_text, temp_beside

    stamp = _stamp(cache / state)
    home.mkdir(parents=True, exist_ok=True)
    seeded = home / state.parent / _SEEDED
    if stamp is None or (seeded.is_file() and seeded.read_text() == stamp):
        return
    for suffix in ("", "-wal"):  # a state left in WAL mode keeps its last writes beside it
        if (cache / f"{state}{suffix}").is_file():
            with temp_beside(home / f"{state}{suffix}") as tmp:
                shutil.copyfile(cache / f"{state}{suffix}", tmp)
                tmp.replace(home / f"{state}{suffix}")
    atomic_write_text(seeded, stamp)


def _stamp(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def read_only_fault(exc: BaseException, cache: Path) -> str | None:
    """A refused write below a read-only `cache`, in words naming it; None for anything else.

    The refusal may be wrapped (an HTTP cache write inside a request that then "failed"): the
    causes, contexts and arguments of `exc` are searched for it.
    """
    refused = _refused_write(exc)
    if refused is None:
        return None
    where = str(refused.filename or "")
    if where and not os.path.abspath(where).startswith(str(cache.absolute())):
        return None  # a write elsewhere (the environment): not the cache's doing
    return (
        f"the cache {cache} is not writable ({refused.strerror}), and this run needs to write to it"
        f"{': ' + where if where else ''}; give a writable one with cache=DIR"
    )


def _refused_write(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo and len(seen) < 50:
        found = todo.pop()
        if not isinstance(found, BaseException) or id(found) in seen:
            continue
        seen.add(id(found))
        if isinstance(found, OSError) and found.errno in READ_ONLY_ERRNOS:
            return found
        todo += [found.__cause__, found.__context__, *found.args]
    return None
