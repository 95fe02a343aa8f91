"""Stages `cache` and `prune`: what the cache holds, and removing what nothing can use any more."""

from __future__ import annotations

from typing import Any

from tasks.run.actions import run_cache_report, run_prune
from tasks.stages.common import clean_failures


def task_cache() -> dict[str, Any]:
    """Show the size and entry count of each bucket family of the cache."""
    return {
        "actions": [clean_failures(run_cache_report)],
        "uptodate": [False],
        "verbosity": 2,
    }


def task_prune() -> dict[str, Any]:
    """Remove stale cache entries (days=N: also unused ones; ci=1: keep only builds; max-size=SIZE)."""
    return {
        "actions": [clean_failures(run_prune)],
        "uptodate": [False],
        "verbosity": 2,
    }
