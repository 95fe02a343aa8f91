"""A wheel pulled from the shared build cache, checked like any wheel before it joins the local cache.

The store's key already names the target's tags and the source's revision, but a key is only what the
writer claimed: the wheel's own tags must fit the target interpreter, its archive must read one way
(tasks.wheels.zipcheck), its METADATA must name the filename's project and version
(tasks.wheels.trust), and that version must be the source's where the source says one (an sdist's
filename, or metadata prepared here for the same revision).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout

if TYPE_CHECKING:
    from tasks.envs.interpreter import Interpreter
    from tasks.source.builtcache import BuiltEntry
    from tasks.source.trees import Tree


def pulled_problem(
    wheel: Path,
    metadata: dict[str, Any],
    name: str,
    tree: Tree,
    interp: Interpreter,
    local: BuiltEntry | None,
) -> str | None:
    """Why the store's `wheel` (with its parsed METADATA) must not be used for `name` on `interp`, or None."""
    from tasks.core.errors import InvalidWheel
    from tasks.index.choice import wheel_rank
    from tasks.wheels.trust import identity_problem
    from tasks.wheels.zipcheck import check_archive

    if wheel_rank(wheel.name, interp) is None:
        return f"{wheel.name} does not fit Python {interp.version}"
    try:
        check_archive(wheel, package=name)
    except InvalidWheel as exc:
        return exc.cause
    claimed = f"Name: {metadata.get('name', '')}\nVersion: {metadata.get('version', '')}\n"
    problem = identity_problem(wheel.name, claimed)
    if problem is not None:
        return f"{wheel.name}: {problem}"
    expected = source_version(tree, local)
    found = str(metadata.get("version", ""))
    if expected is not None and not same_version(found, expected):
        return f"{wheel.name} is version {found}, the source is version {expected}"
    return None


def source_version(tree: Tree, local: BuiltEntry | None) -> str | None:
    """The version the source says it builds, where it says one."""
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename

    from tasks.source.builtcache import is_fresh

    bucket = layout.Bucket.parse(tree.bucket)
    if bucket.from_index:  # an index sdist (a direct URL may name anything)
        try:
            return str(parse_sdist_filename(bucket.leaf)[1])
        except InvalidSdistFilename:
            pass
    if local is not None and local.prepared and is_fresh(local, tree.revision):
        return str(local.prepared.get("version") or "") or None
    return None


def same_version(found: str, expected: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(found) == Version(expected)
    except InvalidVersion:
        return found == expected
