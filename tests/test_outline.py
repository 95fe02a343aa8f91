"""The memoized task outline is reused only while its inputs are unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.run.outline import EnvOutline, Outline, PinOutline, load_memo, save_memo


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHEELWRIGHT_HOME", str(tmp_path / "home"))


def test_memo_is_dropped_when_an_input_changes_appears_or_variables_differ(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("a==1\n")
    later = tmp_path / "pip.conf"
    outline = Outline(
        "/c", [EnvOutline("e", "doc", ["a"], None, "/v", ["/v/site"])], [PinOutline("a", "{}", "d")]
    )
    save_memo({"req": "x"}, outline, [lock, later])
    assert load_memo({"req": "x"}) == outline
    assert load_memo({"req": "y"}) is None
    later.write_text("[global]\n")
    assert load_memo({"req": "x"}) is None
    save_memo({"req": "x"}, outline, [lock, later])
    lock.write_text("a==2\n")
    os.utime(lock, ns=(1, 1))
    assert load_memo({"req": "x"}) is None


@pytest.mark.usefixtures("isolated_env")
def test_the_first_run_after_a_sync_that_made_the_environment_plans_nothing(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    """CI's rerun: the sync made the venv (a file the memo watches), and still the next run reuses it."""
    from tests.e2e import sync
    from tests.support.wheels import make_wheel

    make_wheel(wheelhouse, "alpha", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    assert sync(lock, venv, cache).code == 0
    memos = tmp_path / "home" / "outlines-v0"
    before = {p.name: p.stat().st_mtime_ns for p in memos.glob("*.json")}
    again = sync(lock, venv, cache)
    assert again.code == 0 and "Audited 1 package" in again.err + again.out, again.err
    assert {p.name: p.stat().st_mtime_ns for p in memos.glob("*.json")} == before  # not planned again
