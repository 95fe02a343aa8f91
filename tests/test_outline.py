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
