"""Concurrent cold syncs on one cache fetch each source once: an index sdist, a URL archive, a git repository.

The runs overlap for certain: the loopback index answers the sdist's project page only when all
four runs have asked for it, and holds each archive's first answer until every run has asked (at
most a few seconds): with the per-file lock only one run asks, and the others wait on the lock.
The git repository (dumb HTTP, every request logged) holds its first object request likewise.
"""

from __future__ import annotations

import collections
import os
import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e import DOIT, ROOT, Run, installed
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends, git, lock_file, repo

__all__ = ["backends", "repo"]  # fixtures, used by name
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


class _GitFiles(SimpleHTTPRequestHandler):
    """A bare repository over git's dumb HTTP: every request logged, the first object held."""

    log: list[str]
    hold_first_object: threading.Event

    def do_GET(self) -> None:
        if "/objects/" in self.path and not self.hold_first_object.is_set():
            self.hold_first_object.set()
            time.sleep(HOLD)  # the other runs reach the repository's lock meanwhile
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        self.log.append(self.path)


HOLD = 4.0


def test_four_cold_syncs_fetch_an_sdist_a_url_archive_and_a_git_repository_once(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "ccsrc", "1.0", backend="flit")
    make_sdist(backends, "urlsrc", "1.0", backend="flit")
    make_wheel(backends, "pkga", "1.0")
    bare = tmp_path / "served" / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    git(bare, "update-server-info")
    handler = type("Handler", (_GitFiles,), {"log": [], "hold_first_object": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path / "served")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        runs = _four_runs(index, backends, tmp_path, f"http://127.0.0.1:{server.server_address[1]}/repo.git")
    finally:
        server.shutdown()
    objects = collections.Counter(p for p in handler.log if "/objects/" in p)
    assert objects and set(objects.values()) == {1}, objects  # each object fetched once
    assert sum(p.startswith("/repo.git/info/refs") for p in handler.log) == 5  # 4 ls-remote, 1 fetch
    assert sum("waiting for another fetch of http://127.0.0.1:" in r.err for r in runs) == RUNS - 1


def _four_runs(index: IndexServer, backends: Path, tmp_path: Path, git_url: str) -> list[Run]:
    url = f"{index.files_url}/urlsrc-1.0.tar.gz"
    lines = ["ccsrc==1.0", "pkga==1.0", f"urlsrc @ {url}", f"gitpkg @ git+{git_url}@main"]
    lock = lock_file(tmp_path / "lock.txt", index.url, *lines)
    cache = tmp_path / "cache"
    index.hold("/simple/ccsrc", clients=RUNS)
    for archive in ("ccsrc-1.0.tar.gz", "urlsrc-1.0.tar.gz"):
        index.hold(f"/files/{archive}", clients=RUNS, timeout=4.0)
    venvs = [tmp_path / f"venv{i}" for i in range(RUNS)]
    runs = [finish(p) for p in [start_sync(lock, venv, cache) for venv in venvs]]
    for run in runs:
        assert run.code == 0, run.err
    for venv in venvs:
        assert installed(venv) == {"ccsrc": "1.0", "pkga": "1.0", "urlsrc": "1.0", "gitpkg": "1.0"}
    got = [r for r in index.requests if r.path.startswith("/files/") and r.path.endswith(".tar.gz")]
    assert sorted((r.path, r.status) for r in got) == [
        ("/files/ccsrc-1.0.tar.gz", 200),
        ("/files/urlsrc-1.0.tar.gz", 200),
    ]
    for archive in ("ccsrc-1.0.tar.gz", "urlsrc-1.0.tar.gz"):  # the others were waiting meanwhile
        assert sum(f"waiting for another download of {archive}" in r.err for r in runs) == RUNS - 1
    return runs
