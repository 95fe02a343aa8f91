"""Sources that need a build, as the run asks for them: a tree per source, its metadata, its wheel.

`source_tree` finds (and, when upstream changed, fetches) the tree at a revision; `metadata_of_tree`
and `wheel_of_tree` are the one build pipeline's (`tasks.source.pipeline`: lock, read the entry,
fresh?, shared store, build, write, report), named here for the run's actions; `fetched_wheel`
unpacks a built wheel for installing; `MetadataProvider` serves the resolver; `revision_cached`
says whether a revision's tree is in the cache (a build can go on without the remote). Each is
handed what it reaches with: the run's `Network`, and (for a build) its shared `Store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName

from tasks.core.http import Network
from tasks.envs.interpreter import Interpreter
from tasks.index.pages import DistFile
from tasks.inputs.config import Indexes
from tasks.inputs.sources import Source
from tasks.source.kinds import build_source
from tasks.source.pipeline import Store as Store
from tasks.source.pipeline import metadata_of_tree as metadata_of_tree
from tasks.source.pipeline import wheel_of_tree as wheel_of_tree
from tasks.source.pipeline import wheel_sha256 as wheel_sha256
from tasks.source.remote import SharedCache
from tasks.source.trees import Tree
from tasks.wheels.registry import Fetched


def source_tree(
    name: str,
    source: Source,
    cache: Path,
    net: Network,
    *,
    dist_file: DistFile | None = None,
    hashes: frozenset[str] = frozenset(),
    revision: str | None = None,
) -> Tree:
    """The tree to build at `revision` (checked upstream now when the run has not checked it yet)."""
    kind = build_source(name, source, cache, net, hashes=hashes, dist_file=dist_file)
    return kind.tree(revision or kind.revision())


def fetched_wheel(name: str, tree: Tree, wheel: Path, cache: Path) -> Fetched:
    """The built wheel unpacked for installing, with its PEP 610 record."""
    from tasks.wheels.unpacked import unpack_wheel, unpacked_path

    sha = wheel_sha256(wheel)
    unpacked = unpack_wheel(wheel, unpacked_path(cache, sha), package=name, filename=wheel.name)
    version = wheel.name.split("-")[1]
    return Fetched(name, version, wheel.name, sha, str(unpacked), tree.direct_url, tree.revision)


class MetadataProvider:
    """The resolver's SourceMetadata for sources that need a build, using `indexes` for backends.

    It remembers the revision of each tree whose metadata it gave (a git commit, an archive's
    digest), so a lock names the very commit it resolved against, not one asked for again later.
    `net` and `store` are the run's (by default a network of its own and no shared store).
    """

    def __init__(self, indexes: Indexes, net: Network | None = None, store: Store | None = None):
        self.indexes = indexes
        self.net = net or Network()
        self.store: Store = store or SharedCache(None)
        self.revisions: dict[NormalizedName, str] = {}

    def __call__(
        self,
        name: NormalizedName,
        source: Source,
        interp: Interpreter,
        cache: Path,
        dist_file: DistFile | None,
    ) -> dict[str, Any]:
        tree = source_tree(name, source, cache, self.net, dist_file=dist_file)
        self.revisions[name] = tree.revision
        return metadata_of_tree(name, tree, interp, self.indexes, cache, net=self.net, store=self.store)


def revision_cached(name: str, source: Source, cache: Path, revision: str, net: Network) -> bool:
    """Whether the tree of `revision` is in the cache (a build can go on without the remote)."""
    return build_source(name, source, cache, net).cached(revision)
