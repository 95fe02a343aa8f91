"""A sync into a new environment decided before doit starts (tasks/run/early_sync.py): the cached wheels
linked through the one sync, and only when nothing else changed.

Each test syncs once (the full path), then makes the environment again from the same interpreter, as a
CI job does with a persisted cache. The early sync must leave what the full path leaves, report what it
reports, and step aside for a new commit upstream or a damaged cache entry.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.e2e import Run, installed, site_packages
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends, commit_project, lock_file, repo
from tests.test_noop_imports_e2e import run_logging_modules
from tests.test_noop_sources_e2e import assert_quick_no_op

__all__ = ["backends", "repo"]  # fixtures, used by name


def sync(tmp_path: Path, lock: Path) -> tuple[Run, bool]:
    """`./doit sync` of `lock` into tmp_path/venv; the run, and whether doit was left unimported."""
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    run, modules = run_logging_modules(tmp_path, *words)
    return run, "doit" not in modules


def made_again(venv: Path) -> None:
    """Remove the environment and make it again, empty, from the interpreter it was made from."""
    cfg = dict(
        line.split(" = ", 1) for line in (venv / "pyvenv.cfg").read_text().splitlines() if " = " in line
    )
    shutil.rmtree(venv)
    subprocess.run([cfg["executable"], "-m", "venv", "--without-pip", str(venv)], check=True)


def three_sources(index: IndexServer, backends: Path, repo: Path, tmp_path: Path) -> Path:
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    make_wheel(backends, "pkga", "1.0")
    url, ref = f"{index.files_url}/urlpkg-1.0.tar.gz", f"git+{repo.as_uri()}@main"
    return lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {url}", f"gitpkg @ {ref}", "pkga==1.0")


def files_of(venv: Path) -> dict[str, bytes]:
    site = site_packages(venv)
    return {
        str(p.relative_to(site)): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def plan_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith((" + ", " - ", " ~ "))]


def test_a_new_environment_is_synced_from_the_cache_before_doit_as_the_full_path_syncs_it(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = three_sources(index, backends, repo, tmp_path)
    first, quick = sync(tmp_path, lock)
    assert first.code == 0 and not quick, first.err
    full_files = files_of(tmp_path / "venv")
    made_again(tmp_path / "venv")
    index.clear_log()
    warm, quick = sync(tmp_path, lock)
    assert warm.code == 0 and quick, warm.err  # doit never imported
    assert [(r.path, r.status) for r in index.requests] == [("/files/urlpkg-1.0.tar.gz", 304)]
    assert (
        plan_lines(warm.out) == plan_lines(first.out) == [" + gitpkg==1.0", " + pkga==1.0", " + urlpkg==1.0"]
    )
    assert warm.out.startswith("Installed 3 packages in ") or "Installed 3 packages in " in warm.out, warm.out
    assert files_of(tmp_path / "venv") == full_files  # RECORD, INSTALLER, direct_url.json and all
    assert installed(tmp_path / "venv") == {"gitpkg": "1.0", "pkga": "1.0", "urlpkg": "1.0"}
    assert_quick_no_op(tmp_path, lock, 3)  # recorded for the next run


def test_a_new_environment_and_a_new_commit_go_the_full_path(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = three_sources(index, backends, repo, tmp_path)
    assert sync(tmp_path, lock)[0].code == 0
    made_again(tmp_path / "venv")
    commit_project(repo, "1.0", "SECOND = 2\n")
    rebuilt, quick = sync(tmp_path, lock)
    assert rebuilt.code == 0 and not quick, rebuilt.err
    assert "build_wheel:gitpkg" in rebuilt.ran and "build_wheel:urlpkg" not in rebuilt.ran
    assert "SECOND = 2" in (site_packages(tmp_path / "venv") / "gitpkg" / "__init__.py").read_text()
    assert_quick_no_op(tmp_path, lock, 3)


def test_a_damaged_cache_entry_is_left_to_the_full_path_which_heals_it(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = three_sources(index, backends, repo, tmp_path)
    assert sync(tmp_path, lock)[0].code == 0
    made_again(tmp_path / "venv")
    module = next((tmp_path / "cache").glob("archive-v0/*/pkga/__init__.py"))
    module.write_text("BROKEN = True  # not what RECORD says\n")
    healed, quick = sync(tmp_path, lock)
    assert healed.code == 0 and not quick, healed.err
    assert "BROKEN" not in (site_packages(tmp_path / "venv") / "pkga" / "__init__.py").read_text()
    assert installed(tmp_path / "venv") == {"gitpkg": "1.0", "pkga": "1.0", "urlpkg": "1.0"}
