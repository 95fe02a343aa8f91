"""What crosses doit's boundary: the typed values of the pin tasks, to and from the dicts doit keeps.

doit saves what an action returns (JSON, in its state file), hands it to a later task's `getargs`
and to `uptodate` checks. Actions build their results as frozen dataclasses and convert them here,
once; a task that takes values converts them back here. The dicts' keys are doit's saved state (and
what the `uptodate` checks read, through the `saved_*` readers below), so they stay as they are:

| task | typed value | doit's dict |
|---|---|---|
| `fetch:`, `build_wheel:` | `Fetched` | name, version, filename, sha256, unpacked, direct_url, revision |
| `fetch:` of a source to build | `Tree` | path, revision, bucket, info, direct_url, editable |
| `build_meta:` | `BuiltMetadata` | revision, metadata (the metadata.json path) |
| `build_meta:` of an index wheel | `WheelPassed` (nothing to build) | wheel: true |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from tasks.core.errors import BuildError

if TYPE_CHECKING:  # imported where a value is made or read back: the checks of a no-op need neither
    from tasks.source.trees import Tree
    from tasks.wheels.registry import Fetched


@dataclass(frozen=True)
class BuiltMetadata:
    """A source's metadata.json, written (or found fresh) for `revision`."""

    revision: str
    metadata: str


@dataclass(frozen=True)
class WheelPassed:
    """The build task of an index pin that resolved to a wheel: its metadata is the wheel's own."""


Value: TypeAlias = "Fetched | Tree | BuiltMetadata | WheelPassed"


def to_values(value: Value) -> dict[str, Any]:
    """The dict doit keeps for `value`."""
    if isinstance(value, WheelPassed):
        return {"wheel": True}
    if isinstance(value, BuiltMetadata):
        return asdict(value)
    from tasks.source.trees import Tree

    if isinstance(value, Tree):
        return {
            "path": str(value.path),
            "revision": value.revision,
            "bucket": value.bucket,
            "info": value.info,
            "direct_url": value.direct_url,
            "editable": value.editable,
        }
    return asdict(value)


def tree_from(values: dict[str, Any] | None) -> Tree:
    """The tree `fetch:<pkg>` handed to a build task."""
    from tasks.source.trees import Tree

    if not values or "path" not in values:
        raise BuildError("the source was not fetched")
    return Tree(
        Path(values["path"]), values["revision"], values["bucket"], values["info"], values["direct_url"],
        editable=bool(values.get("editable")),
    )  # fmt: skip


def wheel_from(values: dict[str, Any]) -> Fetched:
    """The wheel a fetch or build_wheel task handed on (to `sync` and `wheelhouse`)."""
    from tasks.wheels.registry import Fetched

    return Fetched(
        values["name"], values["version"], values["filename"], values["sha256"], values["unpacked"],
        values.get("direct_url"), values.get("revision"),
    )  # fmt: skip


# --- what the uptodate checks read of a task's saved values (no value rebuilt: they run on a no-op) ---


def saved_revision(values: dict[str, Any]) -> str | None:
    """The revision a fetch, build_meta or build_wheel task last ran for."""
    revision = values.get("revision")
    return revision if isinstance(revision, str) and revision else None


def saved_path(values: dict[str, Any], key: str) -> Path | None:
    """A path the task saved: a tree's `path`, build_meta's `metadata`, a wheel's `unpacked`."""
    path = values.get(key)
    return Path(path) if isinstance(path, str) else None


def saved_source(values: dict[str, Any]) -> str:
    """Where a saved tree came from, for a line about it."""
    info = values.get("info")
    url = info.get("url") if isinstance(info, dict) else None
    return str(url or values.get("path") or "its source")
