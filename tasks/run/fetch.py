"""The action behind `fetch:<pkg>`: one pin's wheel in the cache, whatever its source.

A registry pin gets the best wheel for the target, or, when the index has only an sdist, the
wheel built from it; a direct wheel is downloaded; a URL archive, git ref or local project is
built (reusing the built-wheel cache). A revision the run already checked is passed on, so no
source is checked upstream twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.run.model import PinJob
from tasks.wheels.fetch import Fetched


def fetch_pin(pin: PinJob, cache: Path, revision: str | None = None) -> dict[str, Any]:
    """Fetch one pin into the cache; the returned values are what `sync` installs."""
    source = pin.line.source
    if not source.direct:
        return _registry(pin, cache).as_values()
    if source.wheel_ref is not None:
        from tasks.wheels.direct import fetch_direct_wheel

        return fetch_direct_wheel(pin.name, source, pin.line.sha256s(), pin.interp, cache).as_values()
    return build_direct(pin, cache, revision).as_values()


def _registry(pin: PinJob, cache: Path) -> Fetched:
    from tasks.wheels.fetch import fetch_wheel_file, registry_file

    version = pin.version
    assert version is not None  # require_pins guarantees it
    hashes = pin.line.sha256s()
    file = registry_file(
        name=pin.name, version=version, hashes=hashes, indexes=pin.indexes, interp=pin.interp, cache=cache
    )
    if file.is_wheel:
        return fetch_wheel_file(file, pin.name, version, hashes, cache)
    from tasks.source.build import fetched_wheel, source_tree, wheel_of_tree

    tree = source_tree(pin.name, source=pin.line.source, cache=cache, dist_file=file, hashes=hashes)
    wheel = wheel_of_tree(pin.name, tree, pin.interp, pin.indexes, cache)
    built = fetched_wheel(pin.name, tree, wheel, cache)
    return Fetched(built.name, built.version, built.filename, built.sha256, built.unpacked)


def build_direct(pin: PinJob, cache: Path, revision: str | None = None) -> Fetched:
    """A URL archive, git ref or local project: its wheel for the target, built only when needed."""
    from tasks.source.build import fetched_wheel, source_tree, wheel_of_tree

    tree = source_tree(pin.name, pin.line.source, cache, hashes=pin.line.sha256s(), revision=revision)
    wheel = wheel_of_tree(pin.name, tree, pin.interp, pin.indexes, cache)
    return fetched_wheel(pin.name, tree, wheel, cache)
