"""The action behind `fetch:<pkg>`: an index pin's file, and any pin's wheel whatever its source.

`fetch_registry` (the action of an index pin's `fetch:<pkg>`) gets the best wheel for the target,
or, when the index has only an sdist, that sdist's tree for `build_meta`/`build_wheel`; the file
chosen is recorded (`tasks.run.pinkind`), so later runs know it is an sdist without the index page.
`fetch_pin` gets a wheel for any pin in one step (a sync healing a damaged cache entry): a direct
wheel is downloaded; an sdist, URL archive, git ref or local project is built (reusing the
built-wheel cache). A revision the run already checked is passed on, so no source is checked
upstream twice. The library code below is handed the run's network and shared store
(`tasks.run.context`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.run.context import network, shared_store
from tasks.run.model import PinJob
from tasks.wheels.registry import Fetched

if TYPE_CHECKING:
    from tasks.index.pages import DistFile
    from tasks.source.trees import Tree


def fetch_pin(pin: PinJob, cache: Path, revision: str | None = None) -> Fetched:
    """Fetch one pin into the cache: the wheel `sync` installs."""
    source = pin.line.source
    if not source.direct:
        return _registry(pin, cache)
    if source.wheel_ref is not None:
        from tasks.wheels.direct import fetch_direct_wheel

        return fetch_direct_wheel(pin.name, source, pin.line.sha256s(), pin.interp, cache, network())
    return build_direct(pin, cache, revision)


def chosen_file(pin: PinJob, cache: Path) -> DistFile:
    """The pin's index file: an sdist recorded by an earlier fetch (no index page), else chosen now."""
    from tasks.run.pinkind import recall, remember
    from tasks.wheels.registry import registry_file

    known = recall(cache, pin)
    if known is not None and not known.is_wheel:
        return known
    version = pin.version
    assert version is not None  # require_pins guarantees it
    file = registry_file(
        name=pin.name, version=version, hashes=pin.line.sha256s(), indexes=pin.indexes,
        interp=pin.interp, cache=cache, net=network(),
    )  # fmt: skip
    remember(cache, pin, file)
    return file


def fetch_registry(pin: PinJob, cache: Path) -> Fetched | Tree:
    """What `fetch:<pkg>` of an index pin gives: a wheel in the cache, or an sdist's tree to build."""
    file = chosen_file(pin, cache)
    if file.is_wheel:
        return _wheel(pin, file, cache)
    return _sdist_tree(pin, file, cache)


def registry_tree(pin: PinJob, cache: Path) -> Tree | None:
    """The tree of an index pin's sdist, from the recorded choice (None for a wheel: nothing to build)."""
    from tasks.core.errors import BuildError
    from tasks.run.pinkind import recall

    file = recall(cache, pin)
    if file is None:
        from tasks.inputs.project import command_name

        raise BuildError(f"not fetched yet: run `{command_name()} fetch:{pin.name}` first", package=pin.name)
    return None if file.is_wheel else _sdist_tree(pin, file, cache)


def _wheel(pin: PinJob, file: DistFile, cache: Path) -> Fetched:
    from tasks.wheels.registry import fetch_wheel_file

    assert pin.version is not None  # require_pins guarantees it
    return fetch_wheel_file(file, pin.name, pin.version, pin.line.sha256s(), cache, network())


def _sdist_tree(pin: PinJob, file: DistFile, cache: Path) -> Tree:
    from tasks.source.build import source_tree

    return source_tree(pin.name, pin.line.source, cache, network(), dist_file=file, hashes=pin.line.sha256s())


def _registry(pin: PinJob, cache: Path) -> Fetched:
    """An index pin's wheel, built from its sdist when that is what the index has (a cache heal)."""
    file = chosen_file(pin, cache)
    if file.is_wheel:
        return _wheel(pin, file, cache)
    from tasks.source.build import fetched_wheel

    tree = with_settings(_sdist_tree(pin, file, cache), pin)
    wheel = built_wheel(pin, tree, cache)
    built = fetched_wheel(pin.name, tree, wheel, cache)
    return Fetched(built.name, built.version, built.filename, built.sha256, built.unpacked)


def build_direct(pin: PinJob, cache: Path, revision: str | None = None) -> Fetched:
    """A URL archive, git ref or local project: its wheel for the target, built only when needed."""
    from tasks.source.build import fetched_wheel, source_tree

    hashes = pin.line.sha256s()
    tree = with_settings(
        source_tree(pin.name, pin.line.source, cache, network(), hashes=hashes, revision=revision), pin
    )
    return fetched_wheel(pin.name, tree, built_wheel(pin, tree, cache), cache)


def built_wheel(pin: PinJob, tree: Tree, cache: Path) -> Path:
    """The pin's wheel built from `tree` (or reused), through the run's network and shared store."""
    from tasks.source.build import wheel_of_tree

    return wheel_of_tree(pin.name, tree, pin.interp, pin.indexes, cache, net=network(), store=shared_store())


def with_settings(tree: Tree, pin: PinJob) -> Tree:
    """The tree with the pin's PEP 517 config_settings, which its metadata.json entry records."""
    from dataclasses import replace

    settings = pin.config_settings
    if not settings:
        return tree
    direct = tree.direct_url
    if direct is not None:  # recorded in the venv too: a changed setting replaces the installed build
        ours = direct.get("wheelwright")
        ours = {**(ours if isinstance(ours, dict) else {}), "config_settings": settings}
        direct = {**direct, "wheelwright": ours}
    return replace(tree, info={**tree.info, "config_settings": settings}, direct_url=direct)
