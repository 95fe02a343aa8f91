"""Stage `fetch:<pkg>`: one task per pinned distribution, fresh while its key and cache entry last."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.stages.common import clean_failures, pipeline
from tasks.stages.plan import run_jobs
from tasks.syncrun import fetch_pin, still_cached


def task_fetch() -> Iterator[dict[str, Any]]:
    """Fetch each pinned distribution into the cache (one task per package)."""
    cache = pipeline().cache
    seen: set[str] = set()
    for job in run_jobs():
        for pin in job.pins:
            name = job.task_names[pin.name]
            if name in seen:
                continue
            seen.add(name)
            yield {
                "name": name,
                "doc": f"fetch {pin.line.requirement} for Python {pin.interp.version}",
                "actions": [(clean_failures(fetch_pin), [pin, cache])],
                "uptodate": [config_changed(pin.key), still_cached],
                "verbosity": 2,
            }
