"""Concurrent cold syncs on one cache fetch each source archive once: an index sdist and a URL archive.

The runs overlap for certain: the loopback index answers the sdist's project page only when all
four runs have asked for it, and holds each archive's first answer until every run has asked (at
most a few seconds): with the per-file lock only one run asks, and the others wait on the lock.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e import DOIT, ROOT, Run, installed
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends, lock_file

__all__ = ["backends"]  # the fixture, used by name
RUNS = 4


def start_sync(req: Path, venv: Path, cache: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, WHEELWRIGHT_CWD=str(ROOT))
    words = [*DOIT, "sync", f"req={req}", f"venv={venv}", f"cache={cache}"]
    return subprocess.Popen(
        words, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> Run:
    out, err = process.communicate(timeout=300)
    return Run(process.returncode, out, err)


def test_four_cold_syncs_fetch_an_sdist_and_a_url_archive_once(
    index: IndexServer, backends: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "ccsrc", "1.0", backend="flit")
    make_sdist(backends, "urlsrc", "1.0", backend="flit")
    make_wheel(backends, "pkga", "1.0")
    url = f"{index.files_url}/urlsrc-1.0.tar.gz"
    lock = lock_file(tmp_path / "lock.txt", index.url, "ccsrc==1.0", "pkga==1.0", f"urlsrc @ {url}")
    cache = tmp_path / "cache"
    index.hold("/simple/ccsrc", clients=RUNS)
    for archive in ("ccsrc-1.0.tar.gz", "urlsrc-1.0.tar.gz"):
        index.hold(f"/files/{archive}", clients=RUNS, timeout=4.0)
    venvs = [tmp_path / f"venv{i}" for i in range(RUNS)]
    runs = [finish(p) for p in [start_sync(lock, venv, cache) for venv in venvs]]
    for run in runs:
        assert run.code == 0, run.err
    for venv in venvs:
        assert installed(venv) == {"ccsrc": "1.0", "pkga": "1.0", "urlsrc": "1.0"}
    got = [r for r in index.requests if r.path.startswith("/files/") and r.path.endswith(".tar.gz")]
    assert sorted((r.path, r.status) for r in got) == [
        ("/files/ccsrc-1.0.tar.gz", 200),
        ("/files/urlsrc-1.0.tar.gz", 200),
    ]
    for archive in ("ccsrc-1.0.tar.gz", "urlsrc-1.0.tar.gz"):  # the others were waiting meanwhile
        assert sum(f"waiting for another download of {archive}" in r.err for r in runs) == RUNS - 1
