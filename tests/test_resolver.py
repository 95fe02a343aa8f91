"""The provider on frozen data: no index, no I/O (resolvelib drives it through a fake finder)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tasks.errors import ResolutionError
from tasks.finder import Release
from tasks.index import DistFile
from tasks.resolver import Provider, Req, dependencies_of, run_resolver
from tasks.sources import Source

ENV = {"python_version": "3.11", "sys_platform": "linux", "python_full_version": "3.11.7"}


class FrozenIndex:
    """name → {version: requires-dist}."""

    def __init__(self, data: dict[str, dict[str, list[str]]]):
        self.data = data
        self.prefetched: list[str] = []

    def releases(self, name: NormalizedName) -> list[Release]:
        versions = sorted((Version(v) for v in self.data.get(name, {})), reverse=True)
        return [Release(v, (DistFile(f"{name}-{v}-py3-none-any.whl", "u"),), (), False) for v in versions]

    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        return {
            "name": name,
            "version": str(release.version),
            "requires-dist": self.data[name][str(release.version)],
        }

    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]:
        raise AssertionError("no direct references here")

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        self.prefetched.extend(names)


def req(text: str) -> Req:
    name, _, spec = text.partition(" ")
    return Req(canonicalize_name(name), SpecifierSet(spec), text=text)


def resolve(data: dict[str, dict[str, list[str]]], *reqs: str, **options: Any) -> dict[str, str]:
    provider = Provider(FrozenIndex(data), ENV, **options)
    return {n: p.version for n, p in run_resolver(provider, [req(r) for r in reqs]).pins.items()}


def test_backtracking_and_preferences() -> None:
    data = {
        "a": {"1.0": ["c<3"], "2.0": ["c<2"]},
        "b": {"1.0": ["c>=2"]},
        "c": {"1.0": [], "2.0": [], "2.5": []},
    }
    assert resolve(data, "a", "b") == {"a": "1.0", "b": "1.0", "c": "2.5"}
    kept = resolve(data, "a", "b", preferences={"c": Version("2.0")})
    assert kept["c"] == "2.0"
    constrained = resolve(data, "a", "b", constraints={"c": SpecifierSet("<2.5")})
    assert constrained["c"] == "2.0"


def test_prereleases_only_when_asked_or_nothing_else() -> None:
    data = {"p": {"1.0": [], "2.0b1": []}, "q": {"1.0rc1": []}}
    assert resolve(data, "p") == {"p": "1.0"}
    assert resolve(data, "p >=2.0b1") == {"p": "2.0b1"}
    assert resolve(data, "q") == {"q": "1.0rc1"}


def test_markers_and_extras_of_dependencies() -> None:
    meta = {
        "requires-dist": ["x; extra == 'fast'", "y; sys_platform == 'win32'", "z; python_version >= '3.8'"]
    }
    names = [d.name for d in dependencies_of(meta, frozenset({"fast"}), ENV)]
    assert names == ["x", "z"]
    assert [d.name for d in dependencies_of(meta, frozenset(), ENV)] == ["z"]


def test_conflicts_name_both_sides() -> None:
    data = {"a": {"1.0": ["c<2"]}, "b": {"1.0": ["c>=2"]}, "c": {"1.0": [], "2.0": []}}
    with pytest.raises(ResolutionError) as err:
        resolve(data, "a", "b")
    assert "c<2 (required by a==1.0)" in str(err.value) and "c>=2 (required by b==1.0)" in str(err.value)
