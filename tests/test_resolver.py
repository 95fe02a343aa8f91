"""The provider on frozen data: no index, no I/O (resolvelib drives it through a fake finder)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tasks.core.errors import ResolutionError
from tasks.index.pages import DistFile
from tasks.inputs.sources import Source
from tasks.lock.deps import Req, dependencies_of
from tasks.lock.provider import Provider, allowed_versions, run_resolver
from tasks.lock.releases import Release

ENV = {"python_version": "3.11", "sys_platform": "linux", "python_full_version": "3.11.7"}


class FrozenIndex:
    """name → {version: requires-dist}."""

    def __init__(self, data: dict[str, dict[str, list[str]]], yanked: dict[str, set[Version]] | None = None):
        self.data, self.yanked = data, yanked or {}
        self.prefetched: list[str] = []
        self.asked: list[str] = []

    def versions(self, name: NormalizedName) -> list[Version]:
        return sorted((Version(v) for v in self.data.get(name, {})), reverse=True)

    def release(self, name: NormalizedName, version: Version) -> Release | None:
        self.asked.append(f"{name}=={version}")
        files = (DistFile(f"{name}-{version}-py3-none-any.whl", "u"),)
        return Release(version, files, files, version in self.yanked.get(name, ()))

    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]:
        return {
            "name": name,
            "version": str(release.version),
            "requires-dist": self.data[name][str(release.version)],
        }

    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]:
        raise AssertionError("no direct references here")

    def prefetch(self, wanted: Iterable[tuple[NormalizedName, frozenset[str]]]) -> None:
        self.prefetched.extend(name for name, _ in wanted)


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


def test_conflicts_name_both_sides_and_the_chain_to_the_input() -> None:
    data = {
        "app": {"1.0": ["a", "mid"]},
        "mid": {"1.0": ["b"]},
        "a": {"1.0": ["c<2"]},
        "b": {"1.0": ["c>=2"]},
        "c": {"1.0": [], "2.0": []},
    }
    with pytest.raises(ResolutionError) as err:
        resolve(data, "app")
    message = str(err.value)
    assert "no version of c satisfies all of:" in message and "(available: 2.0, 1.0)" in message
    assert "c<2 (required by a==1.0 ← app==1.0 ← the input)" in message
    assert "c>=2 (required by b==1.0 ← mid==1.0 ← app==1.0 ← the input)" in message


def test_a_missing_project_is_named() -> None:
    with pytest.raises(ResolutionError, match="nothere is on no configured index"):
        resolve({}, "nothere")


def test_only_the_releases_tried_are_looked_at() -> None:
    data = {"a": {f"1.{i}": [] for i in range(50)}}
    index = FrozenIndex(data)
    provider = Provider(index, ENV)
    run_resolver(provider, [req("a")])
    assert index.asked == ["a==1.49"]


def test_yanked_only_when_the_input_itself_pins_it() -> None:
    """PEP 592: `==` may select a yanked release; only the user's own input decides that."""
    data = {"a": {"1.0": [], "1.1": []}, "app": {"1.0": ["a==1.1"]}}
    yanked = {"a": {Version("1.1")}}
    for text, want in (("a", "1.0"), ("a ==1.1", "1.1"), ("a >1.0", None)):
        provider = Provider(FrozenIndex(data, yanked), ENV, yanked_ok={"a": SpecifierSet(text[1:])})
        if want is None:
            with pytest.raises(ResolutionError):
                run_resolver(provider, [req(text)])
        else:
            assert run_resolver(provider, [req(text)]).pins["a"].version == want
    with pytest.raises(ResolutionError, match="no version of a"):  # a dependency's pin is not enough
        run_resolver(Provider(FrozenIndex(data, yanked), ENV), [req("app")])


def test_allowed_versions_orders_and_splits_prereleases() -> None:
    versions = [Version(v) for v in ("3.0b1", "2.0", "1.5", "1.0", "0.9rc1")]
    finals, pres = allowed_versions(versions, SpecifierSet(">=1.0"), preferred=Version("1.5"))
    assert [str(v) for v in finals] == ["1.5", "2.0", "1.0"] and [str(v) for v in pres] == ["3.0b1"]
    finals, pres = allowed_versions(versions, SpecifierSet(">=2.0b1"))
    assert [str(v) for v in finals] == ["3.0b1", "2.0"] and list(pres) == []
    finals, _ = allowed_versions(versions, SpecifierSet("<1"), preferred=Version("2.0"))
    assert list(finals) == []


def test_extras_pin_their_base_to_the_same_version() -> None:
    data = {"a": {"1.0": ["x; extra == 'more'"], "2.0": ["x; extra == 'more'"]}, "x": {"1.0": []}}
    provider = Provider(FrozenIndex(data), ENV)
    result = run_resolver(provider, [Req(canonicalize_name("a"), SpecifierSet(), frozenset({"more"}))])
    assert {n: (p.version, p.extras) for n, p in result.pins.items()} == {
        "a": ("2.0", frozenset({"more"})),
        "x": ("1.0", frozenset()),
    }
    assert result.pins["x"].via == ("a",)


def walk_back_universe(releases: int, fits_below: int) -> dict[str, dict[str, list[str]]]:
    """`a==N` needs `b==N`; `b>=fits_below` needs `c>=2`, older `b` need `c<2` (issue 22)."""
    return {
        "a": {str(n): [f"b=={n}"] for n in range(1, releases + 1)},
        "b": {str(n): ["c>=2" if n >= fits_below else "c<2"] for n in range(1, releases + 1)},
        "c": {"1.0": [], "2.0": [], "3.0": []},
    }


def test_walks_back_through_many_releases_instead_of_answering_impossible() -> None:
    """resolvelib's optimistic backjumping gave up at a==201 (its rollback lost the root state)."""
    assert resolve(walk_back_universe(300, 200), "a", "c <2") == {"a": "199", "b": "199", "c": "1.0"}


def test_a_conflict_backjumping_skips_past_is_still_solved() -> None:
    """sarugaku/resolvelib#206: backjumping skips p1's state, so p1==1 was never tried."""
    data = {
        "p0": {"2": ["p2==2"]},
        "p1": {"2": ["p0==2"], "1": []},
        "p2": {"2": ["p1==3"], "1": ["p1<=2"]},
    }
    assert resolve(data, "p2") == {"p1": "1", "p2": "1"}


def test_a_real_conflict_is_explained_by_the_first_pass() -> None:
    with pytest.raises(ResolutionError, match=r"no version of c satisfies all of: c <2 .*c>=2"):
        resolve(walk_back_universe(30, 1), "a", "c <2")


class SdistOnlyNewest(FrozenIndex):
    def release(self, name: NormalizedName, version: Version) -> Release | None:
        if version != Version("2.0"):
            return super().release(name, version)
        files = (DistFile(f"{name}-{version}.tar.gz", "u"),)
        return Release(version, files, files, False)


def test_prefer_binary_takes_an_older_release_with_a_wheel_first() -> None:
    data = {"a": {"1.0": [], "2.0": []}}
    newest = run_resolver(Provider(SdistOnlyNewest(data), ENV), [req("a")])
    assert newest.pins["a"].version == "2.0"
    wheel = run_resolver(Provider(SdistOnlyNewest(data), ENV, prefer_binary=True), [req("a")])
    assert wheel.pins["a"].version == "1.0"
    only_sdist = run_resolver(Provider(SdistOnlyNewest(data), ENV, prefer_binary=True), [req("a >=2")])
    assert only_sdist.pins["a"].version == "2.0"
