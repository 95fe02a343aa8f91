"""A remote that is down: a stopped git server or file host degrades to the cached build, with one warning.

Down means no answer (connection refused here: a real server, stopped). A remote that answers
"not found" stays an error, and `strict=1` makes a down remote one too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e import Run, installed, sync
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist
from tests.test_build_e2e import backends, git, lock_file, repo

__all__ = ["backends", "repo"]  # fixtures, used by name
pytestmark = pytest.mark.usefixtures("isolated_env")


class GitHttpServer:
    """A bare repository served over plain HTTP (git's dumb protocol) on 127.0.0.1, stoppable."""

    def __init__(self, source: Path, served: Path) -> None:
        self.bare = served / "repo.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(source), str(self.bare)], check=True)
        git(self.bare, "update-server-info")
        handler = partial(SimpleHTTPRequestHandler, directory=str(served))
        handler.log_message = lambda *a: None  # type: ignore[attr-defined]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/repo.git"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def one_warning(run: Run) -> str:
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, run.err
    return warnings[0]


def report_of(path: Path, package: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())["sources"][package]
    return data


def test_a_stopped_git_server_uses_the_cached_build_with_one_warning(
    index, backends: Path, repo: Path, tmp_path: Path
) -> None:
    server = GitHttpServer(repo, tmp_path / "served")
    commit = git(repo, "rev-parse", "HEAD")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{server.url}@main")
    cache = tmp_path / "cache"
    try:
        first = sync(lock, tmp_path / "venv", cache, f"report={tmp_path / 'up.json'}")
        assert first.code == 0, first.err
        assert report_of(tmp_path / "up.json", "gitpkg")["verified"] is True
    finally:
        server.stop()
    down = sync(lock, tmp_path / "venv2", cache, f"report={tmp_path / 'down.json'}")
    assert down.code == 0, down.err
    warning = one_warning(down)
    assert "gitpkg" in warning and server.url in warning and commit[:12] in warning, warning
    assert "last confirmed" in warning and "Failed to connect" in warning, warning
    assert installed(tmp_path / "venv2") == {"gitpkg": "1.0"}
    assert report_of(tmp_path / "down.json", "gitpkg")["verified"] is False
    strict = sync(lock, tmp_path / "venv3", cache, "strict=1")
    assert strict.code == 1, strict.err
    assert "Traceback" not in strict.err
    (line,) = strict.errors
    assert "gitpkg" in line and "strict=1" in line and server.url in line, line
    assert not (tmp_path / "venv3").exists()


def test_a_git_repository_that_answers_not_found_stays_an_error(
    index, backends: Path, repo: Path, tmp_path: Path
) -> None:
    server = GitHttpServer(repo, tmp_path / "served")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{server.url}@main")
    cache = tmp_path / "cache"
    try:
        assert sync(lock, tmp_path / "venv", cache).code == 0
        shutil.rmtree(server.bare)  # the server answers 404: "repository not found"
        gone = sync(lock, tmp_path / "venv2", cache)
    finally:
        server.stop()
    assert gone.code == 1, gone.err
    (line,) = gone.errors
    assert "gitpkg" in line and "not found" in line, line
    assert "warning:" not in gone.err


def test_a_file_repository_moved_away_is_not_found(index, backends: Path, repo: Path, tmp_path: Path) -> None:
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{repo.as_uri()}@main")
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    repo.rename(tmp_path / "elsewhere")
    gone = sync(lock, tmp_path / "venv2", cache)
    assert gone.code == 1, gone.err
    (line,) = gone.errors
    assert "gitpkg" in line and "does not appear to be a git repository" in line, line


def test_a_stopped_file_host_uses_the_cached_build_and_a_404_stays_an_error(
    index, backends: Path, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    make_sdist(files, "urlpkg", "1.0", backend="flit")
    host = IndexServer(files)
    url = f"{host.files_url}/urlpkg-1.0.tar.gz"
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {url}")
    cache = tmp_path / "cache"
    try:
        assert sync(lock, tmp_path / "venv", cache).code == 0
        (files / "urlpkg-1.0.tar.gz").rename(tmp_path / "away.tar.gz")
        missing = sync(lock, tmp_path / "venv404", cache)
        assert missing.code == 1, missing.err
        (line,) = missing.errors
        assert "urlpkg" in line and "HTTP 404" in line, line
        assert "warning:" not in missing.err
    finally:
        host.stop()
    down = sync(lock, tmp_path / "venv2", cache, f"report={tmp_path / 'down.json'}")
    assert down.code == 0, down.err
    warning = one_warning(down)
    assert "urlpkg" in warning and url in warning and "last confirmed" in warning, warning
    assert installed(tmp_path / "venv2") == {"urlpkg": "1.0"}
    assert report_of(tmp_path / "down.json", "urlpkg")["verified"] is False
    strict = sync(lock, tmp_path / "venv3", cache, "strict=1")
    assert strict.code == 1 and "strict=1" in strict.errors[0], strict.err


def test_a_stopped_server_with_nothing_cached_is_one_error(
    index, backends: Path, repo: Path, tmp_path: Path
) -> None:
    server = GitHttpServer(repo, tmp_path / "served")
    server.stop()
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{server.url}@main")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 1, run.err
    (line,) = run.errors
    assert "gitpkg" in line and "Failed to connect" in line and "no build" in line, line


def test_a_read_only_cache_and_a_stopped_git_server_still_sync(
    index, backends: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI image: the cache baked read-only (its confirmations with it), the git server down."""
    from tests.test_trust_faults import tmpfs

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    server = GitHttpServer(repo, tmp_path / "served")
    commit = git(repo, "rev-parse", "HEAD")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{server.url}@main")
    with tmpfs(tmp_path / "ro", "50m") as mount:
        cache = mount / "cache"
        try:
            assert sync(lock, tmp_path / "venv", cache).code == 0
        finally:
            server.stop()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        run = sync(lock, tmp_path / "venv2", cache)
        assert run.code == 0, run.err
        warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 2, run.err  # the cache is read-only; the remote is down
        assert "read-only" in warnings[0] and commit[:12] in warnings[1], run.err
        assert installed(tmp_path / "venv2") == {"gitpkg": "1.0"}
