"""What crosses doit's boundary: the typed values of the pin tasks, to and from the dicts doit keeps.

doit saves what an action returns (JSON, in its state file), hands it to a later task's `getargs`
and to `uptodate` checks. Actions build their results as frozen dataclasses and convert them here,
once; a task that takes values converts them back here. The dicts' keys are doit's saved state (and
what the checks read), so they stay as they are:

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
from typing import Any

from tasks.core.errors import BuildError
from tasks.source.trees import Tree
from tasks.wheels.fetch import Fetched


@dataclass(frozen=True)
class BuiltMetadata:
    """A source's metadata.json, written (or found fresh) for `revision`."""

    revision: str
    metadata: str


@dataclass(frozen=True)
class WheelPassed:
    """The build task of an index pin that resolved to a wheel: its metadata is the wheel's own."""


Value = Fetched | Tree | BuiltMetadata | WheelPassed


def to_values(value: Value) -> dict[str, Any]:
    """The dict doit keeps for `value`."""
    if isinstance(value, Tree):
        return {
            "path": str(value.path),
            "revision": value.revision,
            "bucket": value.bucket,
            "info": value.info,
            "direct_url": value.direct_url,
            "editable": value.editable,
        }
    if isinstance(value, WheelPassed):
        return {"wheel": True}
    return asdict(value)


def tree_from(values: dict[str, Any] | None) -> Tree:
    """The tree `fetch:<pkg>` handed to a build task."""
    if not values or "path" not in values:
        raise BuildError("the source was not fetched")
    return Tree(
        Path(values["path"]), values["revision"], values["bucket"], values["info"], values["direct_url"],
        editable=bool(values.get("editable")),
    )  # fmt: skip


def wheel_from(values: dict[str, Any]) -> Fetched:
    """The wheel a fetch or build_wheel task handed on (to `sync` and `wheelhouse`)."""
    return Fetched(
        values["name"], values["version"], values["filename"], values["sha256"], values["unpacked"],
        values.get("direct_url"), values.get("revision"),
    )  # fmt: skip
