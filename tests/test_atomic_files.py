"""Atomic writes: whole or nothing, with the mode a plain write would give (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tasks.core.files import atomic_write_text, umask


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_umask_mode_and_a_rewrite_keeps_its_own(tmp_path: Path) -> None:
    tmp_path = tmp_path / "project"
    old = os.umask(0o027)
    umask.cache_clear()
    try:
        fresh = tmp_path / "requirements.txt"
        atomic_write_text(fresh, "a==1\n")
        assert mode(fresh) == 0o640 and fresh.read_text() == "a==1\n"
        fresh.chmod(0o604)
        atomic_write_text(fresh, "a==2\n")
        assert mode(fresh) == 0o604 and fresh.read_text() == "a==2\n"
    finally:
        os.umask(old)
        umask.cache_clear()
    assert [p.name for p in tmp_path.iterdir()] == ["requirements.txt"]  # no temp file left


def test_a_failed_write_leaves_the_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "project" / "lock.txt"
    target.parent.mkdir()
    target.write_text("before\n")

    def refused(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(target, "after\n")
    assert target.read_text() == "before\n" and [p.name for p in target.parent.iterdir()] == ["lock.txt"]
