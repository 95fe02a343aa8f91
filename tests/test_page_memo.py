"""What a relock learnt from each index page (`tasks.index.pagememo`): used again while the page's body
is the same (a 304 or an identical body), never once the page changed. Real resolutions against the
loopback index."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.envs.interpreter import Interpreter, find_python, probe
from tasks.index import jsonpage, pagememo
from tasks.inputs.config import Indexes
from tasks.inputs.requirements import parse_file
from tasks.lock import releases
from tasks.lock.resolve import Resolution, resolve
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture(scope="module")
def interp(tmp_path_factory: pytest.TempPathFactory) -> Interpreter:
    return probe(find_python(sys.executable), tmp_path_factory.mktemp("interp"))


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of each page read entry by entry from now on (a memo used reads none)."""
    seen: list[int] = []
    original: Callable[[str], Any] = jsonpage.filename_offsets

    def counting(text: str) -> Any:
        seen.append(len(text))
        return original(text)

    monkeypatch.setattr(releases, "filename_offsets", counting)
    return seen


def lock(index: IndexServer, tmp_path: Path, interp: Interpreter) -> Resolution:
    """A full re-resolution (no previous pins) of `app` with the cache in tmp_path."""
    path = tmp_path / "in.txt"
    path.write_text("app\n")
    reqs = list(parse_file(path).requirements)
    return resolve(reqs, interp=interp, indexes=Indexes((index.url,), ()), cache=tmp_path / "cache")


def pinned(resolution: Resolution) -> dict[str, tuple[str, list[str]]]:
    return {n: (p.version, sorted(f.filename for f in p.files)) for n, p in resolution.pins.items()}


@pytest.mark.parametrize("validators", [True, False], ids=["revalidated", "no-validators"])
def test_a_changed_page_is_read_again_not_taken_from_its_memo(
    validators: bool, index: IndexServer, wheelhouse: Path, tmp_path: Path, interp: Interpreter
) -> None:
    index.max_age, index.validators = 0, validators  # every run asks the index again
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    assert pinned(lock(index, tmp_path, interp))["lib"] == ("1.0", ["lib-1.0-py3-none-any.whl"])
    make_wheel(wheelhouse, "lib", "2.0")  # the page changes: a new release
    make_wheel(wheelhouse, "lib", "1.0", tag="py2.py3-none-any")  # and 1.0 gains a file
    again = pinned(lock(index, tmp_path, interp))
    assert again["lib"] == ("2.0", ["lib-2.0-py3-none-any.whl"])


@pytest.mark.parametrize("validators", [True, False], ids=["304", "same-body"])
def test_an_unchanged_page_is_not_read_again(
    validators: bool,
    index: IndexServer,
    wheelhouse: Path,
    tmp_path: Path,
    interp: Interpreter,
    scanned: list[int],
) -> None:
    index.max_age, index.validators = 0, validators
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib>=1.0"])
    for version in ("0.9", "1.0", "1.1"):
        make_wheel(wheelhouse, "lib", version)
    first = pinned(lock(index, tmp_path, interp))
    assert len(scanned) == 2  # app's page and lib's, read once each
    index.clear_log()
    assert (
        pinned(lock(index, tmp_path, interp))
        == first
        == {
            "app": ("1.0", ["app-1.0-py3-none-any.whl"]),
            "lib": ("1.1", ["lib-1.1-py3-none-any.whl"]),
        }
    )
    assert len(scanned) == 2  # nothing read again: both pages from their memo
    pages = [r.status for r in index.requests if r.path.startswith("/simple/")]
    assert pages == [304, 304] if validators else pages == [200, 200]


def test_a_damaged_memo_is_read_past(
    index: IndexServer, wheelhouse: Path, tmp_path: Path, interp: Interpreter, scanned: list[int]
) -> None:
    index.max_age = 0
    make_wheel(wheelhouse, "app", "1.0")
    lock(index, tmp_path, interp)
    memo = pagememo.memo_path(tmp_path / "cache", f"{index.url}/app/")
    data = json.loads(memo.read_text())
    data["starts"] = [[s + 1 for s in group] for group in data["starts"]]  # offsets off by one
    memo.write_text(json.dumps(data))
    assert pinned(lock(index, tmp_path, interp)) == {"app": ("1.0", ["app-1.0-py3-none-any.whl"])}
    assert len(scanned) == 2  # read again, and the memo made anew
    assert json.loads(memo.read_text())["starts"] != data["starts"]


@pytest.mark.parametrize("validators", [True, False])
def test_a_page_is_spooled_for_the_http_cache_only_when_it_can_be_stored(
    validators: bool, index: IndexServer, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cachecontrol.filewrapper import CallbackFileWrapper

    from tasks.core.http import Network

    spooled: list[object] = []

    def counting(fp: Any, callback: Any) -> Any:
        spooled.append(fp)
        return CallbackFileWrapper(fp, callback)

    monkeypatch.setattr("cachecontrol.adapter.CallbackFileWrapper", counting)
    index.validators = validators
    make_wheel(wheelhouse, "lib", "1.0")
    session = Network().index_session(tmp_path / "cache")
    first = session.get(f"{index.url}/lib/", timeout=10)
    assert first.status_code == 200 and b"lib-1.0" in first.content
    stored = [p for p in (tmp_path / "cache" / "http-v0").rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert (len(spooled), len(stored)) == ((1, 1) if validators else (0, 0))
    again = session.get(f"{index.url}/lib/", timeout=10)
    assert again.content == first.content and again.from_cache is validators
