"""An index pin's kind (wheel or sdist) is learnt once, under one key, also when the lock has hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.e2e import Run, doit, started_tasks
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


def run(events: Path, *words: str) -> Run:
    """`./doit WORDS` with one events file for every run: the variables and environment that key the
    outline memo stay the same, so a run reuses the last one's memo unless something it watches changed."""
    events.unlink(missing_ok=True)
    done = doit(*words, env={**os.environ, "WHEELWRIGHT_EVENTS": str(events)})
    return Run(done.code, done.out, done.err, started_tasks(events))


def test_a_hashed_lock_learns_each_pins_kind_once(
    index: IndexServer, backends: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "wheelwright-home"
    monkeypatch.setenv("WHEELWRIGHT_HOME", str(home))  # this test's own outline memos
    wheel = make_wheel(backends, "plain", "1.0")
    sdist = make_sdist(backends, "sdonly", "1.0", backend="setuptools")
    lines = [f"plain==1.0 --hash=sha256:{sha256(wheel)}", f"sdonly==1.0 --hash=sha256:{sha256(sdist)}"]
    lock = lock_file(tmp_path / "lock.txt", index.url, *lines)
    events = tmp_path / "events.jsonl"
    words = (f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}")

    listed = run(events, "list", "--all", *words)  # planned before either pin's file is known
    assert "build_meta:plain" in listed.out and "build_meta:sdonly" in listed.out, listed.out + listed.err
    first = run(events, "fetch:plain", "fetch:sdonly", *words)
    assert first.code == 0, first.err
    assert set(first.ran) == {"fetch:plain", "fetch:sdonly"}, first.ran
    planned = memo_writes(home)

    again = run(events, "fetch:plain", "fetch:sdonly", *words)
    assert again.code == 0, again.err
    assert again.ran == (), again.ran  # nothing fetched again
    assert memo_writes(home) != planned  # planned once more: each fetch recorded its pin's file
    replanned = memo_writes(home)

    listed = run(events, "list", "--all", *words)
    assert "build_meta:sdonly" in listed.out and "build_meta:plain" not in listed.out, listed.out
    third = run(events, "fetch:plain", "fetch:sdonly", *words)
    assert third.code == 0 and third.ran == (), third.ran
    assert memo_writes(home) == replanned  # these runs read the memo: nothing planned again
