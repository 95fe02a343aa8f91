"""When a cache entry was last used: the mtime of its marker file, stamped on reuse (at most hourly).

Access times are not relied on (file systems mounted `noatime` never update them, and a prune
reading an entry would count as a use); a reuse moves the marker's mtime forward instead.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

RESTAMP_AFTER = 3600.0  # seconds: a marker stamped within this long is left alone (one stat per reuse)


def mark_used(marker: Path) -> None:
    """Record that the entry owning `marker` was used now (cheap; never fails the run)."""
    with contextlib.suppress(OSError):
        now = time.time()
        if now - os.stat(marker).st_mtime > RESTAMP_AFTER:
            os.utime(marker, (now, now))


def last_used(marker: Path) -> float:
    """The entry's last use (its marker's mtime); 0.0 when the marker is missing."""
    try:
        return os.stat(marker).st_mtime
    except OSError:
        return 0.0
