"""An index pin's kind (wheel or sdist) is learnt once, under one key, also when the lock has hashes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import doit, sync
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends as backends_fixture
from tests.test_build_e2e import lock_file

backends = backends_fixture  # the pinned build backends on the loopback index (a fixture)

pytestmark = pytest.mark.usefixtures("isolated_env")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def memo_writes(home: Path) -> dict[str, int]:
    """Each outline memo with its modification time: a change means the run planned afresh."""
    return {p.name: p.stat().st_mtime_ns for p in (home / "outlines-v0").glob("*.json")}


def test_a_hashed_lock_learns_each_pins_kind_once(
    index: IndexServer, backends: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "wheelwright-home"
    monkeypatch.setenv("WHEELWRIGHT_HOME", str(home))  # this test's own outline memos
    wheel = make_wheel(backends, "plain", "1.0")
    sdist = make_sdist(backends, "sdonly", "1.0", backend="setuptools")
    lines = [f"plain==1.0 --hash=sha256:{sha256(wheel)}", f"sdonly==1.0 --hash=sha256:{sha256(sdist)}"]
    lock = lock_file(tmp_path / "lock.txt", index.url, *lines)
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    # the environment exists before the first run, so only a pin's recorded kind can change the outline
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)

    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert {"fetch:plain", "fetch:sdonly", "build_wheel:sdonly"} <= set(first.ran), first.ran
    planned = memo_writes(home)

    second = sync(lock, venv, cache)  # plans once more: the fetches recorded each pin's file
    assert second.code == 0, second.err
    assert set(second.ran) == {"sync:cli", "sync"}, second.ran  # nothing fetched again
    assert memo_writes(home) != planned
    replanned = memo_writes(home)

    listed = doit("list", "--all", f"req={lock}", f"venv={venv}", f"cache={cache}")
    assert "build_meta:sdonly" in listed.out and "build_meta:plain" not in listed.out, listed.out
    third = sync(lock, venv, cache)
    assert third.code == 0 and set(third.ran) == {"sync:cli", "sync"}, third.ran
    assert memo_writes(home) == replanned  # the no-op reads the memo, plans nothing
