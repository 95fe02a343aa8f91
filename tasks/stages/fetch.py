"""Stage `fetch:<pkg>`: one task per pinned distribution, fresh while its key and cache entry last."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.stages.common import clean_failures
from tasks.stages.plan import outline, run_fetch, still_cached


def task_fetch() -> Iterator[dict[str, Any]]:
    """Fetch each pinned distribution into the cache (one task per package)."""
    for pin in outline().pins:
        yield {
            "name": pin.task,
            "doc": pin.doc,
            "actions": [(clean_failures(run_fetch), [pin.task])],
            "uptodate": [config_changed(pin.key), still_cached],
            "verbosity": 2,
        }
