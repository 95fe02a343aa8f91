"""Stage `fetch:<pkg>`: one task per pinned distribution, fresh while its key and cache entry last."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.run.actions import run_fetch
from tasks.run.context import outline
from tasks.stages.checks import path_exists, revision_unchanged, sdist_unchanged, still_cached
from tasks.stages.common import clean_failures

_FETCH = clean_failures(run_fetch)  # one wrapper for every pin's task (a no-op names them all)


def task_fetch() -> Iterator[dict[str, Any]]:
    """Fetch each pinned distribution: a wheel into the cache, or a source tree to build."""
    for pin in outline().pins:
        if pin.built and pin.registry:  # an index sdist (or not known yet): its tree, by its recorded sha256
            uptodate = [config_changed(pin.key), sdist_unchanged(pin), path_exists("path")]
        elif pin.built:
            uptodate = [config_changed(pin.key), revision_unchanged(pin.task), path_exists("path")]
        else:
            uptodate = [config_changed(pin.key), still_cached]
        yield {
            "name": pin.task,
            "doc": pin.doc,
            "actions": [(_FETCH, [pin.task])],
            "uptodate": uptodate,
            "verbosity": 2,
        }
