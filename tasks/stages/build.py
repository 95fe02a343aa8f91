"""Stages `build_meta:<pkg>` and `build_wheel:<pkg>` for sources built from source (index sdist, URL,
git, path).

Both read the tree `fetch:<pkg>` found and are fresh while the source's revision (all revisions
are checked at once, concurrently, on the first check; an index sdist's is its recorded sha256)
and its config_settings are the ones they last ran for. An index pin whose file is not known yet
gets both too; when its fetch finds a wheel they are up to date at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from doit.tools import config_changed

from tasks.run.actions import run_build_meta, run_build_wheel
from tasks.run.context import outline, variables
from tasks.run.outline import PinOutline
from tasks.stages.checks import path_exists, revision_unchanged, sdist_unchanged, still_cached, wheel_or
from tasks.stages.common import clean_failures, loading


def task_build_meta() -> Iterator[dict[str, Any]]:
    """Write a source's metadata.json (prepare_metadata_for_build_wheel; no full build when avoidable)."""
    for pin in built_pins():
        if pin.built:
            fresh = [_revision(pin), path_exists("metadata"), config_changed(pin.settings)]
            yield _build_task(pin, "metadata", run_build_meta, f"fetch:{pin.task}", fresh)


def task_build_wheel() -> Iterator[dict[str, Any]]:
    """Build (or reuse) a source's wheel for the target interpreter (shard=K/N: one runner's share)."""
    for pin in built_pins():
        if pin.built:
            fresh = [config_changed(pin.key + pin.settings), _revision(pin), still_cached]
            yield _build_task(pin, "wheel", run_build_wheel, f"build_meta:{pin.task}", fresh)


def _build_task(
    pin: PinOutline, what: str, action: Callable[..., Any], after: str, fresh: list[Any]
) -> dict[str, Any]:
    """One build task of `pin`: its `what` (metadata or wheel), made by `action` after task `after`."""
    return {
        "name": pin.task,
        "doc": f"{what} of {pin.doc.removeprefix('fetch ')}",
        "actions": [(clean_failures(action), [pin.task])],
        **_tree_from_fetch(pin),
        "task_dep": [after],
        "uptodate": [wheel_or(pin, fresh)] if pin.registry else fresh,
        "verbosity": 2,
    }


def built_pins() -> list[PinOutline]:
    """The pins that get build tasks: every source built from source, or with `shard=K/N` that shard's."""
    from tasks.run.shard import in_shard, parse_shard

    pins = [pin for pin in outline().pins if pin.built]
    with loading():  # a malformed shard= is one line
        shard = parse_shard(variables().get("shard"))
    return in_shard(pins, [pin.task for pin in pins], shard)


def _tree_from_fetch(pin: PinOutline) -> dict[str, Any]:
    """A direct source's tree comes from `fetch` (getargs); an index pin's build tasks read the file its
    fetch recorded instead, so that for a wheel they stay up to date and print nothing."""
    return {} if pin.registry else {"getargs": {"tree": (f"fetch:{pin.task}", None)}}


def _revision(pin: PinOutline) -> Any:
    return sdist_unchanged(pin) if pin.registry else revision_unchanged(pin.task)
