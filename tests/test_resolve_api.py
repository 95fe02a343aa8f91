"""`tasks.lock.resolve.resolve` called as a plain function (as source builds call it), on a loopback index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from tasks.core.errors import ResolutionError
from tasks.envs.interpreter import Interpreter, find_python, probe
from tasks.index.pages import DistFile, json_file
from tasks.inputs.config import Indexes
from tasks.inputs.requirements import parse_file
from tasks.inputs.sources import Source
from tasks.lock.releases import Project
from tasks.lock.resolve import resolve
from tests.support.wheels import make_sdist, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture(scope="module")
def interp(tmp_path_factory: pytest.TempPathFactory) -> Interpreter:
    return probe(find_python(sys.executable), tmp_path_factory.mktemp("interp"))


def lines(tmp_path: Path, text: str) -> list[Any]:
    path = tmp_path / "in.txt"
    path.write_text(text)
    return list(parse_file(path).requirements)


def test_sdist_only_without_a_source_builder_names_the_package(
    index: Any, wheelhouse: Path, tmp_path: Path, interp: Interpreter
) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["srconly"])
    make_sdist(wheelhouse, "srconly", "1.0")
    indexes = Indexes((index.url,), ())
    reqs = lines(tmp_path, "app\n")
    with pytest.raises(ResolutionError, match=r"srconly.*needs a source build"):
        resolve(reqs, interp=interp, indexes=indexes, cache=tmp_path / "cache")
    with pytest.raises(ResolutionError, match="no version of srconly"):
        resolve(reqs, interp=interp, indexes=indexes, cache=tmp_path / "cache", allow_sdists=False)

    built: list[str] = []

    def source_metadata(
        name: NormalizedName, source: Source, interp: Interpreter, cache: Path, dist_file: DistFile | None
    ) -> dict[str, Any]:
        assert dist_file is not None and dist_file.filename == "srconly-1.0.tar.gz"
        built.append(name)
        return {"name": "srconly", "version": "1.0", "requires-dist": []}

    result = resolve(
        reqs, interp=interp, indexes=indexes, cache=tmp_path / "cache", source_metadata=source_metadata
    )
    assert {n: p.version for n, p in result.pins.items()} == {"app": "1.0", "srconly": "1.0"}
    assert built == ["srconly"]
    assert [f.filename for f in result.pins["srconly"].files] == ["srconly-1.0.tar.gz"]


def test_pages_of_extras_dependencies_are_fetched_ahead(
    index: Any, wheelhouse: Path, tmp_path: Path, interp: Interpreter
) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib[fast]"])
    make_wheel(wheelhouse, "lib", "1.0", provides_extra=["fast"], requires_dist=["speedup; extra == 'fast'"])
    make_wheel(wheelhouse, "speedup", "1.0", requires_dist=["deep"])
    make_wheel(wheelhouse, "deep", "1.0")
    result = resolve(
        lines(tmp_path, "app\n"), interp=interp, indexes=Indexes((index.url,), ()), cache=tmp_path
    )
    assert sorted(result.pins) == ["app", "deep", "lib", "speedup"]
    assert result.pins["lib"].extras == frozenset({"fast"})
    assert result.pins["speedup"].via == ("lib",)
    pages = [r.path for r in index.requests if r.path.startswith("/simple/")]
    assert sorted(pages) == ["/simple/app/", "/simple/deep/", "/simple/lib/", "/simple/speedup/"]


def test_a_project_page_makes_files_only_for_the_versions_looked_at() -> None:
    entries = [
        {"filename": f"lib-{v}-py3-none-any.whl", "url": f"https://h/lib-{v}.whl", "hashes": {}}
        for v in ("1.0", "2.0", "10.0", "2.0rc1")
    ]
    entries.append({"filename": "lib-1.0.tar.gz", "url": "https://h/lib-1.0.tar.gz", "hashes": {}})
    entries.append({"filename": "lib-latest.tar.gz", "url": "https://h/x.tar.gz", "hashes": {}})
    made: list[str] = []

    def make(entry: dict[str, Any]) -> DistFile:
        made.append(entry["filename"])
        return json_file(entry, "https://h/simple/lib/", "https://h/simple/")

    found = Project(entries, make, lambda e: str(e["filename"]))
    assert [str(v) for v in found.versions] == ["10.0", "2.0", "2.0rc1", "1.0"]
    assert made == []
    assert [f.filename for f in found.files(Version("1.0"))] == ["lib-1.0-py3-none-any.whl", "lib-1.0.tar.gz"]
    assert made == ["lib-1.0-py3-none-any.whl", "lib-1.0.tar.gz"]


def test_an_sdist_only_dependency_is_built_for_its_metadata_while_the_resolver_is_elsewhere(
    index: Any, wheelhouse: Path, tmp_path: Path, interp: Interpreter
) -> None:
    import threading

    from tasks.core.http import Network
    from tasks.lock.resolve import make_finder

    make_wheel(wheelhouse, "app", "1.0", requires_dist=["srconly"])
    make_sdist(wheelhouse, "srconly", "1.0")
    asked = threading.Event()

    def source_metadata(
        name: NormalizedName, source: Source, interp: Interpreter, cache: Path, dist_file: DistFile | None
    ) -> dict[str, Any]:
        asked.set()
        return {"name": "srconly", "version": "1.0", "requires-dist": []}

    indexes = Indexes((index.url,), ())
    cache = tmp_path / "cache"
    finder = make_finder(interp, indexes, cache, source_metadata, allow_sdists=True, net=Network())
    try:
        finder.prefetch([(NormalizedName("app"), frozenset())])  # app's page, its metadata, then srconly's
        assert asked.wait(30), "srconly's sdist was not built ahead of the resolver"
    finally:
        finder.close()
