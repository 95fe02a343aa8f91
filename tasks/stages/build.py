"""Stages `build_meta:<pkg>` and `build_wheel:<pkg>` for sources built from source (URL, git, path).

Both read the tree `fetch:<pkg>` found and are fresh while the source's revision is the one
they last ran for (all revisions are checked at once, concurrently, on the first check).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from tasks.run.actions import run_build_meta, run_build_wheel
from tasks.run.current import outline
from tasks.stages.checks import path_exists, revision_unchanged, still_cached
from tasks.stages.common import clean_failures


def task_build_meta() -> Iterator[dict[str, Any]]:
    """Write a source's metadata.json (prepare_metadata_for_build_wheel; no full build when avoidable)."""
    for pin in outline().pins:
        if pin.built:
            yield {
                "name": pin.task,
                "doc": f"metadata of {pin.doc.removeprefix('fetch ')}",
                "actions": [(clean_failures(run_build_meta), [pin.task])],
                "getargs": {"tree": (f"fetch:{pin.task}", None)},
                "task_dep": [f"fetch:{pin.task}"],
                "uptodate": [revision_unchanged(pin.task), path_exists("metadata")],
                "verbosity": 2,
            }


def task_build_wheel() -> Iterator[dict[str, Any]]:
    """Build (or reuse) a source's wheel for the target interpreter."""
    for pin in outline().pins:
        if pin.built:
            yield {
                "name": pin.task,
                "doc": f"wheel of {pin.doc.removeprefix('fetch ')}",
                "actions": [(clean_failures(run_build_wheel), [pin.task])],
                "getargs": {"tree": (f"fetch:{pin.task}", None)},
                "task_dep": [f"build_meta:{pin.task}"],
                "uptodate": [config_changed(pin.key), revision_unchanged(pin.task), still_cached],
                "verbosity": 2,
            }
