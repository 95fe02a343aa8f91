"""A URL archive whose host stalls or drops mid-body: tried again within the bounded budget.

The index wheels have always had the bounded retry loop (tests/test_trust_faults.py); these prove
that a direct URL archive (`name @ http://…/x.tar.gz`) gets the same loop, not one try.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import installed, sync
from tests.support.wheels import make_sdist
from tests.test_build_e2e import backends, lock_file

__all__ = ["backends"]  # a fixture, used by name
pytestmark = pytest.mark.usefixtures("isolated_env")
ARCHIVE = "/files/urlpkg-1.0.tar.gz"


@pytest.mark.parametrize("fault", ["stall", "drop"])
def test_a_url_archive_that_fails_twice_mid_body_is_tried_again(
    index, backends: Path, tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv("WHEELWRIGHT_EVENTS", str(events))
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    if fault == "stall":
        index.stall(ARCHIVE, times=2, seconds=60)  # the headers, then no byte of the body
    else:
        index.truncate(ARCHIVE, times=2)  # half the body, then the connection closes
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {index.files_url}/urlpkg-1.0.tar.gz")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", "timeout=3")
    assert run.code == 0, run.err
    assert run.errors == [] and "Traceback" not in run.err, run.err
    assert installed(tmp_path / "venv") == {"urlpkg": "1.0"}
    assert [r.status for r in index.requests if r.path == ARCHIVE] == [200, 200, 200]  # two faults, a try
    rows = [json.loads(line) for line in events.read_text().splitlines()]
    retries = [r["message"] for r in rows if r["kind"] == "progress" and r.get("message")]
    assert [m.split(" failed")[0] for m in retries] == ["try 1", "try 2"], retries  # each retry an event


def test_a_url_archive_that_never_arrives_fails_in_bounded_time(
    index, backends: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    index.stall(ARCHIVE, times=100, seconds=60)
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {index.files_url}/urlpkg-1.0.tar.gz")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", "timeout=1")
    assert run.code != 0
    assert "Traceback" not in run.err, run.err
    (line,) = run.errors
    assert "urlpkg" in line and "no data for 1s" in line, line
    tries = [r for r in index.requests if r.path == ARCHIVE]
    assert 2 <= len(tries) <= 10, tries  # tried again, then given up (the budget: 3 timeouts)
    assert not (tmp_path / "venv").exists()
