"""doit's task state (sqlite, in the cache): written without waiting for the disk, removed when damaged.

The state is a memo: losing its last write only makes the tasks it covered run once more. So its
commits do not wait for the disk to confirm them (`PRAGMA synchronous=OFF`: a commit is still
atomic when the process is killed; only a crash of the machine itself can damage the file). A
no-op then costs no disk flush, which on a busy CI disk is most of its wall time. A state file
that sqlite cannot read is removed with a warning, and the run starts from an empty state: every
task checks its sources again.
"""

from __future__ import annotations

import os
from typing import Any

from doit.dependency import DatabaseException, SqliteDB

from tasks.core.events import warn


class CacheStateDB(SqliteDB):  # type: ignore[misc]
    """doit's sqlite backend, with unflushed commits and a damaged file removed."""

    desc = "sqlite3, commits not flushed to disk (the state is a memo); a damaged file is removed"

    def _sqlite3(self, name: str) -> Any:
        try:
            conn = _checked(super()._sqlite3(name))
        except DatabaseException:
            os.unlink(name)
            warn(f"removed doit's task state {name}: sqlite cannot read it; every task checks again")
            conn = super()._sqlite3(name)
        conn.execute("PRAGMA synchronous=OFF")
        return conn


def _checked(conn: Any) -> Any:
    """`conn`, after a read that fails on a damaged file (sqlite opens one lazily)."""
    import sqlite3

    try:
        conn.execute("select count(*) from doit").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseException(str(exc)) from None
    return conn
