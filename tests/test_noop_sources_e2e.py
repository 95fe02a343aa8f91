"""The no-op decided before doit starts (tasks/run/early_noop.py) still asks upstream, and steps aside.

Each test first shows the quick no-op happening (doit never imported), then changes one thing: a new
commit on the ref, a republished archive, a remote that is down, an environment edited by hand, the
lock, or offline=1. Each run after that must be what the full path makes of it; a quick path that
skipped its check, or ignored what changed, fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e import Run, installed, site_packages
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends, commit_project, git, lock_file, repo
from tests.test_noop_imports_e2e import loaded_forbidden, run_logging_modules
from tests.test_trust_degrade_e2e import GitHttpServer, one_warning

__all__ = ["backends", "repo"]  # fixtures, used by name


def sync(tmp_path: Path, lock: Path, *extra: str) -> tuple[Run, bool]:
    """`./doit sync` of `lock` into tmp_path/venv; the run, and whether it was the quick no-op."""
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}", *extra]
    run, modules = run_logging_modules(tmp_path, *words)
    quick = "doit" not in modules
    assert not quick or loaded_forbidden(modules) == [], run.err
    return run, quick


def assert_quick_no_op(tmp_path: Path, lock: Path, count: int) -> None:
    run, quick = sync(tmp_path, lock)
    assert run.code == 0 and quick, run.err
    noun = "package" if count == 1 else "packages"
    assert run.out.startswith(f"Audited {count} {noun} in ") and run.out.count("\n") == 1, run.out


def direct_url(tmp_path: Path, name: str) -> dict[str, object]:
    path = site_packages(tmp_path / "venv") / f"{name}-1.0.dist-info" / "direct_url.json"
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_a_new_commit_on_the_ref_is_built_and_installed(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{repo.as_uri()}@main")
    first, _ = sync(tmp_path, lock)
    assert first.code == 0, first.err
    assert_quick_no_op(tmp_path, lock, 1)
    second = commit_project(repo, "1.0", "SECOND = 2\n")
    rebuilt, quick = sync(tmp_path, lock)
    assert rebuilt.code == 0 and not quick, rebuilt.err
    assert "build_wheel:gitpkg" in rebuilt.ran and " ~ gitpkg==1.0 -> 1.0" in rebuilt.out
    assert "SECOND = 2" in (site_packages(tmp_path / "venv") / "gitpkg" / "__init__.py").read_text()
    assert direct_url(tmp_path, "gitpkg")["vcs_info"] == {
        "vcs": "git", "commit_id": second, "requested_revision": "main"
    }  # fmt: skip
    assert_quick_no_op(tmp_path, lock, 1)  # the new commit, recorded


def test_a_republished_archive_is_fetched_built_and_installed(
    index: IndexServer, backends: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {index.files_url}/urlpkg-1.0.tar.gz")
    first, _ = sync(tmp_path, lock)
    assert first.code == 0, first.err
    index.clear_log()
    assert_quick_no_op(tmp_path, lock, 1)
    assert [(r.path, r.status) for r in index.requests] == [("/files/urlpkg-1.0.tar.gz", 304)]
    files = tmp_path / "files"
    make_sdist(files, "urlpkg", "1.0", backend="flit", files={"urlpkg/new.py": "NEW = 1\n"})
    shutil.copy(files / "urlpkg-1.0.tar.gz", backends / "urlpkg-1.0.tar.gz")  # same name, new content
    stale, quick = sync(tmp_path, lock)
    assert stale.code == 0 and not quick, stale.err
    assert "build_wheel:urlpkg" in stale.ran and " ~ urlpkg==1.0 -> 1.0" in stale.out
    assert (site_packages(tmp_path / "venv") / "urlpkg" / "new.py").exists()
    assert_quick_no_op(tmp_path, lock, 1)


def test_what_the_quick_checks_learned_is_not_asked_again(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    url, ref = f"{index.files_url}/urlpkg-1.0.tar.gz", f"git+{repo.as_uri()}@main"
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {url}", f"gitpkg @ {ref}")
    assert sync(tmp_path, lock)[0].code == 0
    commit_project(repo, "1.0", "SECOND = 2\n")
    index.clear_log()
    rebuilt, quick = sync(tmp_path, lock)
    assert rebuilt.code == 0 and not quick, rebuilt.err
    assert "build_wheel:gitpkg" in rebuilt.ran and "build_wheel:urlpkg" not in rebuilt.ran
    # the URL was asked once, before doit started; doit's checks took that answer
    assert [(r.path, r.status) for r in index.requests] == [("/files/urlpkg-1.0.tar.gz", 304)]


def test_a_remote_down_on_a_no_op_falls_back_to_the_last_confirmed_build(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    server = GitHttpServer(repo, tmp_path / "served")
    commit = git(repo, "rev-parse", "HEAD")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{server.url}@main")
    try:
        assert sync(tmp_path, lock)[0].code == 0
        assert_quick_no_op(tmp_path, lock, 1)
    finally:
        server.stop()
    down, quick = sync(tmp_path, lock)
    assert down.code == 0 and not quick, down.err
    warning = one_warning(down)
    assert "gitpkg" in warning and commit[:12] in warning and "last confirmed" in warning, warning
    strict, _ = sync(tmp_path, lock, "strict=1")
    assert strict.code == 1, strict.err
    (line,) = strict.errors
    assert "gitpkg" in line and "strict=1" in line, line
    assert installed(tmp_path / "venv") == {"gitpkg": "1.0"}


def test_offline_skips_the_checks_as_before(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{repo.as_uri()}@main")
    assert sync(tmp_path, lock)[0].code == 0
    commit_project(repo, "1.0", "SECOND = 2\n")  # not seen: offline, nothing is asked
    offline, quick = sync(tmp_path, lock, "offline=1")
    assert offline.code == 0 and not quick, offline.err
    assert "Offline: skipped the revision check of gitpkg" in offline.out, offline.out
    assert "build_wheel:gitpkg" not in offline.ran


@pytest.mark.parametrize("change", ["removed", "edited", "added"])
def test_an_environment_changed_by_hand_is_synced_again(
    index: IndexServer, wheelhouse: Path, tmp_path: Path, change: str
) -> None:
    for name in ("pkga", "pkgb"):
        make_wheel(wheelhouse, name, "1.0")
    make_wheel(wheelhouse, "extra", "1.0")
    lock = lock_file(tmp_path / "lock.txt", index.url, "pkga==1.0", "pkgb==1.0")
    assert sync(tmp_path, lock)[0].code == 0
    assert_quick_no_op(tmp_path, lock, 2)
    site = site_packages(tmp_path / "venv")
    if change == "removed":
        shutil.rmtree(site / "pkgb-1.0.dist-info")
    elif change == "edited":
        metadata = site / "pkgb-1.0.dist-info" / "METADATA"
        metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 0.9"))
    else:
        other = lock_file(tmp_path / "other.txt", index.url, "pkga==1.0", "pkgb==1.0", "extra==1.0")
        assert sync(tmp_path, other)[0].code == 0  # the same environment, another lock
    again, quick = sync(tmp_path, lock)
    assert again.code == 0 and not quick, again.err
    assert installed(tmp_path / "venv") == {"pkga": "1.0", "pkgb": "1.0"}
    assert_quick_no_op(tmp_path, lock, 2)


def test_a_changed_lock_is_synced(index: IndexServer, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "pkga", "1.0")
    make_wheel(wheelhouse, "pkga", "2.0")
    lock = lock_file(tmp_path / "lock.txt", index.url, "pkga==1.0")
    assert sync(tmp_path, lock)[0].code == 0
    assert_quick_no_op(tmp_path, lock, 1)
    lock_file(lock, index.url, "pkga==2.0")
    changed, quick = sync(tmp_path, lock)
    assert changed.code == 0 and not quick and " ~ pkga==1.0 -> 2.0" in changed.out, changed.out + changed.err
    assert installed(tmp_path / "venv") == {"pkga": "2.0"}
