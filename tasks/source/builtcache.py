"""The built-wheel cache of one source: `metadata.json` and its built wheels, tied to the revision.

    built-wheel-metadata-v0/<bucket>/metadata.json   {"data": {wheel: metadata}, "source": {...}}
    built-wheels-v0/<bucket>/<wheel>

Per source, after the freshness check: fresh with a compatible wheel → reuse; fresh with only
incompatible wheels → build and *add*; stale → rebuild, overwrite with the single new wheel, and
delete the stale built wheels.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import scrub
from tasks.envs.interpreter import Interpreter
from tasks.index.choice import wheel_rank

if TYPE_CHECKING:
    from tasks.source.trees import Tree


@dataclass(frozen=True)
class BuiltEntry:
    """What metadata.json holds for one source."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)  # wheel filename → core metadata
    source: dict[str, Any] = field(default_factory=dict)  # revision and how it was learned
    prepared: dict[str, Any] | None = None  # metadata from prepare_metadata, before any wheel

    def revision(self) -> str | None:
        value = self.source.get("revision")
        return value if isinstance(value, str) else None

    def compatible(self, interp: Interpreter) -> str | None:
        """The best built wheel for `interp`, if one was built."""
        ranked = [(rank, f) for f in self.data if (rank := wheel_rank(f, interp)) is not None]
        return min(ranked)[1] if ranked else None

    def any_metadata(self, interp: Interpreter) -> dict[str, Any] | None:
        best = self.compatible(interp)
        if best is not None:
            return self.data[best]
        return self.prepared or next(iter(self.data.values()), None)


def metadata_json(cache: Path, bucket: str) -> Path:
    return cache / layout.BUILT_METADATA.name / bucket / layout.METADATA_JSON


def wheels_dir(cache: Path, bucket: str) -> Path:
    return cache / layout.BUILT_WHEELS.name / bucket


def read_entry(cache: Path, bucket: str) -> BuiltEntry | None:
    """The source's entry; None when there is none, or when it is damaged (then it is removed)."""
    path = metadata_json(cache, bucket)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _evict(path, f"cannot read it ({exc})")
        return None
    try:
        return _parse_entry(json.loads(text))
    except ValueError as exc:
        _evict(path, str(exc) or "not JSON")
        return None


def _parse_entry(data: object) -> BuiltEntry:
    """metadata.json's content, its shape checked (anything else is a damaged entry)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, found {type(data).__name__}")
    built, source, prepared = data.get("data", {}), data.get("source", {}), data.get("prepared")
    if not isinstance(built, dict) or not all(isinstance(v, dict) for v in built.values()):
        raise ValueError("its `data` is not a map of wheel metadata")
    if not isinstance(source, dict) or not (prepared is None or isinstance(prepared, dict)):
        raise ValueError("its `source` or `prepared` is not an object")
    return BuiltEntry(built, source, prepared)


def _evict(path: Path, reason: str) -> None:
    from tasks.core.events import warn

    path.unlink(missing_ok=True)
    warn(f"removed damaged cache entry {path}: {reason}; making it again")


def write_entry(cache: Path, bucket: str, entry: BuiltEntry) -> None:
    payload: dict[str, Any] = {"data": entry.data, "source": scrub(entry.source)}  # no credentials
    if entry.prepared is not None:
        payload["prepared"] = entry.prepared
    atomic_write_text(metadata_json(cache, bucket), json.dumps(payload, indent=1, sort_keys=True))


def is_fresh(entry: BuiltEntry | None, revision: str, source: dict[str, Any] | None = None) -> bool:
    """The entry was made from `revision` with the same PEP 517 config_settings (`source`'s, if given)."""
    if entry is None or entry.revision() != revision:
        return False
    wanted = (source or {}).get("config_settings") or {}
    return bool((entry.source.get("config_settings") or {}) == wanted)


def with_wheel(
    entry: BuiltEntry | None, revision: str, source: dict[str, Any], wheel: str, metadata: dict[str, Any]
) -> BuiltEntry:
    """The entry after a build: added to when fresh, replaced by the single new wheel when stale."""
    info = {**source, "revision": revision}
    if is_fresh(entry, revision, source):
        assert entry is not None
        return BuiltEntry({**entry.data, wheel: metadata}, info, entry.prepared)
    return BuiltEntry({wheel: metadata}, info)


def with_prepared(
    entry: BuiltEntry | None, revision: str, source: dict[str, Any], metadata: dict[str, Any]
) -> BuiltEntry:
    info = {**source, "revision": revision}
    if is_fresh(entry, revision, source):
        assert entry is not None
        return BuiltEntry(entry.data, info, metadata)
    return BuiltEntry({}, info, metadata)


def record_wheel(
    cache: Path,
    tree: Tree,
    entry: BuiltEntry | None,
    wheel: str,
    metadata: dict[str, Any],
    prepared: dict[str, Any] | None = None,
) -> BuiltEntry:
    """metadata.json and the bucket after a wheel came in (built here, or taken from the shared store
    with the `prepared` metadata it was built with): added when fresh, the single wheel when stale."""
    base = entry if is_fresh(entry, tree.revision, tree.info) else None
    if prepared is not None and (base is None or base.prepared is None):
        base = with_prepared(base, tree.revision, tree.info, prepared)
    updated = with_wheel(base, tree.revision, tree.info, wheel, metadata)
    write_entry(cache, tree.bucket, updated)
    drop_stale_wheels(cache, tree.bucket, keep=set(updated.data))
    if layout.Bucket.parse(tree.bucket).one_revision:
        drop_other_revisions(cache, tree.bucket)
    return updated


def drop_stale_wheels(cache: Path, bucket: str, keep: set[str]) -> None:
    """Delete built wheels of this bucket that metadata.json no longer lists."""
    directory = wheels_dir(cache, bucket)
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True) if path.is_file() else shutil.rmtree(path, ignore_errors=True)


def drop_other_revisions(cache: Path, bucket: str) -> None:
    """A local directory has one content at a time: its entries for other revisions are stale."""
    for root in (cache / layout.BUILT_METADATA.name, cache / layout.BUILT_WHEELS.name):
        parent = (root / bucket).parent
        if parent.is_dir():
            for sibling in parent.iterdir():
                if sibling.name != Path(bucket).name:
                    shutil.rmtree(sibling, ignore_errors=True)
