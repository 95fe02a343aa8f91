"""`lock check=1` and `dry=1` write nothing and say what would change; a relock says what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import doit, tree_snapshot
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def lock(req: Path, out: Path, cache: Path, *extra: str):  # type: ignore[no-untyped-def]
    return doit("lock", f"req={req}", f"out={out}", f"cache={cache}", *extra)


def change_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith((" +", " -", " ~"))]


def test_check_and_dry_write_nothing_and_list_the_changes(index, wheelhouse: Path, tmp_path: Path) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    index.max_age = 0  # new releases show at once
    make_wheel(wheelhouse, "rich", "13.9.4")
    make_wheel(wheelhouse, "colorama", "0.4.6")
    req.write_text(f"-i {index.url}\nrich\ncolorama\n")

    missing = lock(req, out, cache, "check=1")
    assert missing.code == 1 and not out.exists(), missing.err
    assert missing.errors == [f"error: {out}: the lock does not exist; locking would write it"]
    assert change_lines(missing.out) == ["+ colorama 0.4.6", "+ rich 13.9.4"]

    assert lock(req, out, cache).code == 0
    written = out.read_text()
    same = lock(req, out, cache, "check=1")  # inputs unchanged: doit's own file digests answer
    assert same.code == 0 and "lock:cli" not in same.ran, same.err
    assert "cli: up to date (its inputs are as they were locked" in same.out  # said, not silent
    req.write_text(f"-i {index.url}\nrich\ncolorama\n# a comment only\n")
    resolved = lock(req, out, cache, "check=1")  # an input changed: resolved, and the same lock
    assert resolved.code == 0 and "lock:cli" in resolved.ran, resolved.err
    assert "up to date" in resolved.out and change_lines(resolved.out) == []

    make_wheel(wheelhouse, "rich", "15.0.0")
    make_wheel(wheelhouse, "click", "8.5.1")
    req.write_text(f"-i {index.url}\nrich>=14\nclick\n")
    before = tree_snapshot(tmp_path)
    dry = lock(req, out, cache, "dry=1")
    assert dry.code == 0, dry.err
    assert change_lines(dry.out) == ["+ click 8.5.1", "- colorama 0.4.6", "~ rich 13.9.4 -> 15.0.0"]
    assert "would change" in dry.out and out.read_text() == written
    check = lock(req, out, cache, "check=1")  # the dry run did not mark the lock done
    assert check.code == 1 and "lock:cli" in check.ran, check.err
    assert check.errors == [
        f"error: {out}: the lock differs from what its inputs give now (1 to add, 1 to change, 1 to remove)"
    ]
    assert change_lines(check.out) == change_lines(dry.out)
    assert {k: v for k, v in tree_snapshot(tmp_path).items() if not k.startswith("cache/")} == {
        k: v for k, v in before.items() if not k.startswith("cache/")
    }

    relock = lock(req, out, cache)  # the real relock says what it changed
    assert relock.code == 0, relock.err
    assert change_lines(relock.out) == ["+ click 8.5.1", "- colorama 0.4.6", "~ rich 13.9.4 -> 15.0.0"]
    assert lock(req, out, cache, "check=1").code == 0


def test_upgrade_check_names_the_upgrade(index, wheelhouse: Path, tmp_path: Path) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    index.max_age = 0
    make_wheel(wheelhouse, "rich", "13.9.4")
    req.write_text(f"-i {index.url}\nrich\n")
    assert lock(req, out, cache).code == 0
    make_wheel(wheelhouse, "rich", "15.0.0")
    written = out.read_text()
    check = lock(req, out, cache, "upgrade=rich", "check=1")
    assert check.code == 1 and change_lines(check.out) == ["~ rich 13.9.4 -> 15.0.0"]
    assert out.read_text() == written
    upgraded = lock(req, out, cache, "upgrade=rich")
    assert upgraded.code == 0 and change_lines(upgraded.out) == ["~ rich 13.9.4 -> 15.0.0"]


def test_changes_are_read_from_the_two_texts() -> None:
    from tasks.core.events import Change
    from tasks.lock.lockfile import lock_changes, pinned

    before = (
        "#\n# header\n#\n--index-url http://127.0.0.1:1/simple\n\n"
        "rich==13.9.4 \\\n    --hash=sha256:aa\n    # via -r requirements.in\n"
        "mine @ file:///tmp/a.whl\ncolorama==0.4.6\n"
    )
    after = "rich[jupyter]==15.0.0 ; python_version >= '3.8'\nmine @ file:///tmp/b.whl\n-e file:///src/app\n"
    assert "app" not in pinned(after)  # an editable line has no name to show: a text change
    assert pinned(before) == {"rich": "13.9.4", "mine": "@ file:///tmp/a.whl", "colorama": "0.4.6"}
    assert lock_changes(pinned(before), pinned(after)) == (
        Change("remove", "colorama", old="0.4.6"),
        Change("replace", "mine", version="@ file:///tmp/b.whl", old="@ file:///tmp/a.whl"),
        Change("replace", "rich", version="15.0.0", old="13.9.4"),
    )
