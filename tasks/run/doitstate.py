"""Reading doit's task state (`state-v0/<project>/doit-state.sqlite3`, the dep files that
`run/context.py` names): which built buckets the `fetch:` tasks last used. doit's schema is its own:
one `doit` table of (task_id, task_data JSON), a task's saved values under `_values_:`; the bucket
is the tree's (`source/build.py`)."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.core import layout


def fetched_buckets(cache: Path) -> set[str]:
    """Built buckets a task in doit's state last used (each environment's current revision)."""
    import sqlite3

    rows = []
    states = [layout.DOIT_STATE.under(cache), *layout.STATE.under(cache).glob(f"*/{layout.DOIT_STATE.name}")]
    for state in states:  # the state of every project sharing the cache (and one from before state-v0)
        if not state.is_file():
            continue
        try:
            with sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True) as db:
                rows += db.execute("SELECT task_id, task_data FROM doit").fetchall()
        except sqlite3.Error:
            continue
    buckets = set()
    for name, data in rows:
        if str(name).startswith("fetch:"):
            try:
                bucket = json.loads(data).get("_values_:", {}).get("bucket")
            except (ValueError, AttributeError):
                continue
            if isinstance(bucket, str):
                buckets.add(bucket)
    return buckets
