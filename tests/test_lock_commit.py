"""The commit a lock pins for a git reference is the one whose metadata the resolution used."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import NormalizedName

from tasks.envs.interpreter import Interpreter, find_python, probe
from tasks.index.pages import DistFile
from tasks.inputs.config import EnvSpec, Indexes
from tasks.inputs.sources import Source
from tasks.run.lock_env import lock_env
from tasks.source.build import MetadataProvider
from tests.test_build_e2e import backends, commit_project, git, repo

__all__ = ["backends", "repo"]  # fixtures, used by name
pytestmark = pytest.mark.usefixtures("isolated_env")


class BranchMovesAfterBuild(MetadataProvider):
    """The real provider, after which a new commit lands on the branch (before the lock is written)."""

    def __init__(self, indexes: Indexes, repo: Path):
        super().__init__(indexes)
        self.repo, self.moved_to = repo, ""

    def __call__(
        self,
        name: NormalizedName,
        source: Source,
        interp: Interpreter,
        cache: Path,
        dist_file: DistFile | None,
    ) -> dict[str, Any]:
        metadata = super().__call__(name, source, interp, cache, dist_file)
        self.moved_to = commit_project(self.repo, "2.0", "moved")
        return metadata


def test_a_branch_moving_after_the_build_does_not_change_the_pinned_commit(
    index: Any, backends: Path, repo: Path, tmp_path: Path
) -> None:
    built = git(repo, "rev-parse", "HEAD")
    sources = tmp_path / "in.in"
    sources.write_text(f"-i {index.url}\ngitpkg @ git+{repo.as_uri()}@main\n")
    out = tmp_path / "out.txt"
    spec = EnvSpec("cli", (out,), None, "python", (sources,))
    interp = probe(find_python(sys.executable), tmp_path / "interp")
    moving = BranchMovesAfterBuild(Indexes((index.url,), ()), repo)
    lock_env(spec, interp, tmp_path / "cache", source_metadata=moving)
    assert moving.moved_to and moving.moved_to != built
    assert git(repo, "rev-parse", "main") == moving.moved_to
    text = out.read_text()
    assert f"gitpkg @ git+{repo.as_uri()}@{built}" in text
    assert moving.moved_to not in text
