"""Warnings the run gives without failing (a damaged cache entry removed and remade): one place."""

from __future__ import annotations

import sys


def warn(message: str) -> None:
    """One `warning: ...` line on stderr (stdout stays the sync's summary)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
