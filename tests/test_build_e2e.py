"""Source builds tied to remote freshness, end to end: real backends served by a loopback index."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e import ROOT, doit, installed, site_packages, sync, tree_snapshot
from tests.support.wheels import make_sdist, make_sdist_dir, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")
TEST_WHEELS = ROOT / ".wheelwright" / "test-wheels"


@pytest.fixture
def backends(wheelhouse: Path) -> Path:
    """The pinned build backends (setuptools, flit_core, hatchling and theirs) on the loopback index."""
    wheels = sorted(TEST_WHEELS.glob("*.whl"))
    if not wheels:
        pytest.fail(
            "no build backends in .wheelwright/test-wheels: run `./doit test` (or `./doit test_wheels`)"
        )
    for wheel in wheels:
        shutil.copy(wheel, wheelhouse)
    return wheelhouse


def lock_file(path: Path, index_url: str, *lines: str) -> Path:
    path.write_text("\n".join([f"--index-url {index_url}", *lines]) + "\n")
    return path


def metadata_files(cache: Path) -> list[Path]:
    return sorted((cache / "built-wheel-metadata-v0").rglob("metadata.json"))


def built_wheels(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "built-wheels-v0").rglob("*.whl"))


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo.parent),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def commit_project(repo: Path, version: str, body: str = "") -> str:
    make_sdist_dir(
        repo,
        "gitpkg",
        version,
        backend="flit",
        files={"gitpkg/__init__.py": f'"""gitpkg."""\n__version__ = "{version}"\n{body}'},
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"v{version} {body}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit_project(path, "1.0")
    return path


def test_index_sdist_is_built_once_and_reused(index, backends: Path, tmp_path: Path) -> None:
    make_sdist(backends, "sdonly", "1.0", backend="setuptools", requires_dist=["dep"])
    make_wheel(backends, "dep", "1.0")
    lock = lock_file(tmp_path / "lock.txt", index.url, "sdonly==1.0", "dep==1.0")
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert installed(venv) == {"sdonly": "1.0", "dep": "1.0"}
    (meta,) = metadata_files(cache)
    assert meta.parent.name == "sdonly-1.0.tar.gz" and meta.parent.parent.parent.name == "index"
    data = json.loads(meta.read_text())
    assert list(data["data"]) == ["sdonly-1.0-py3-none-any.whl"]
    assert data["data"]["sdonly-1.0-py3-none-any.whl"]["requires-dist"] == ["dep"]
    before = tree_snapshot(cache / "built-wheel-metadata-v0"), tree_snapshot(cache / "built-wheels-v0")
    index.clear_log()
    second = sync(lock, tmp_path / "venv2", cache)  # a new environment, same cache
    assert second.code == 0, second.err
    assert index.requests == []  # index files are immutable: nothing to ask
    assert (
        tree_snapshot(cache / "built-wheel-metadata-v0"),
        tree_snapshot(cache / "built-wheels-v0"),
    ) == before


def test_backends_flit_and_hatchling_from_local_paths(index, backends: Path, tmp_path: Path) -> None:
    flit = make_sdist_dir(tmp_path / "flitproj", "flitproj", "0.1", backend="flit")
    hatch = make_sdist_dir(tmp_path / "hatchproj", "hatchproj", "0.2", backend="hatchling")
    lock = lock_file(
        tmp_path / "lock.txt", index.url, f"flitproj @ {flit.as_uri()}", f"hatchproj @ {hatch.as_uri()}"
    )
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"flitproj": "0.1", "hatchproj": "0.2"}


def test_local_path_rebuilds_exactly_when_a_file_changes(index, backends: Path, tmp_path: Path) -> None:
    project = make_sdist_dir(tmp_path / "proj", "proj", "1.0", backend="flit")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"proj @ {project.as_uri()}")
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    again = sync(lock, venv, cache)
    assert again.code == 0 and "build_wheel:proj" not in again.ran and "Uninstalled" not in again.out
    (project / "pyproject.toml").touch()  # a new mtime, the same content: still fresh
    touched = sync(lock, venv, cache)
    assert touched.code == 0 and "build_wheel:proj" not in touched.ran, touched.err
    (project / "proj" / "__init__.py").write_text('"""proj."""\nCHANGED = True\n')
    changed = sync(lock, venv, cache)
    assert changed.code == 0, changed.err
    assert "build_wheel:proj" in changed.ran and " ~ proj==1.0 -> 1.0" in changed.out
    assert "CHANGED = True" in (site_packages(venv) / "proj" / "__init__.py").read_text()
    assert len(metadata_files(cache)) == 1 and len(built_wheels(cache)) == 1  # the stale entry is gone


def test_url_archive_revalidates_and_rebuilds_when_republished(index, backends: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {index.files_url}/urlpkg-1.0.tar.gz")
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    index.clear_log()
    fresh = sync(lock, venv, cache)
    assert fresh.code == 0 and not any(t.startswith("build_wheel") for t in fresh.ran)
    assert [(r.path, r.status) for r in index.requests] == [("/files/urlpkg-1.0.tar.gz", 304)]
    make_sdist(files, "urlpkg", "1.0", backend="flit", files={"urlpkg/new.py": "NEW = 1\n"})
    shutil.copy(files / "urlpkg-1.0.tar.gz", backends / "urlpkg-1.0.tar.gz")  # republished, same name
    stale = sync(lock, venv, cache)
    assert stale.code == 0, stale.err
    assert "build_wheel:urlpkg" in stale.ran and " ~ urlpkg==1.0 -> 1.0" in stale.out
    assert (site_packages(venv) / "urlpkg" / "new.py").exists()
    (meta,) = metadata_files(cache)
    assert meta.parent.parent.parent.name == "url" and meta.parent.name == "urlpkg-1.0.tar.gz"
    assert len(json.loads(meta.read_text())["data"]) == 1 and len(built_wheels(cache)) == 1


def test_git_refs_resolve_with_one_ls_remote_and_new_commits_rebuild(
    index, backends: Path, repo: Path, tmp_path: Path
) -> None:
    lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{repo.as_uri()}@main")
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    first_commit = git(repo, "rev-parse", "HEAD")
    assert (cache / "built-wheel-metadata-v0" / "git").is_dir()
    assert any(first_commit in str(p) for p in metadata_files(cache))
    same = sync(lock, venv, cache)
    assert same.code == 0 and not any(t.startswith("build_wheel") for t in same.ran), same.err
    second_commit = commit_project(repo, "1.0", "SECOND = 2\n")
    rebuilt = sync(lock, venv, cache)
    assert rebuilt.code == 0, rebuilt.err
    assert " ~ gitpkg==1.0 -> 1.0" in rebuilt.out
    direct = json.loads((site_packages(venv) / "gitpkg-1.0.dist-info" / "direct_url.json").read_text())
    assert direct["vcs_info"]["commit_id"] == second_commit
    pinned = lock_file(tmp_path / "pinned.txt", index.url, f"gitpkg @ git+{repo.as_uri()}@{first_commit}")
    assert sync(pinned, tmp_path / "venv2", cache).code == 0  # a full sha: no ls-remote needed


def test_git_over_http(index, backends: Path, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "served" / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    git(bare, "update-server-info")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/repo.git"
        lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{url}@main")
        run = sync(lock, tmp_path / "venv", tmp_path / "cache")
        assert run.code == 0, run.err
        assert installed(tmp_path / "venv") == {"gitpkg": "1.0"}
    finally:
        server.shutdown()


class _LoggedFiles(SimpleHTTPRequestHandler):
    """Serves a directory (git's dumb HTTP protocol) and logs each request's path."""

    log: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.log.append(self.path)


def test_one_ls_remote_per_git_ref_per_run(index, backends: Path, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "served" / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    git(bare, "update-server-info")
    handler = type("Handler", (_LoggedFiles,), {"log": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path / "served")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/repo.git"
        lock = lock_file(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{url}@main")
        cache, venv = tmp_path / "cache", tmp_path / "venv"
        assert sync(lock, venv, cache).code == 0
        handler.log.clear()
        warm = sync(lock, venv, cache)  # the ref is checked (uptodate and action share the answer)
        assert warm.code == 0, warm.err
        assert [p for p in handler.log if "/info/refs" in p] == [
            "/repo.git/info/refs?service=git-upload-pack"
        ]
        pinned = lock_file(
            tmp_path / "pinned.txt", index.url, f"gitpkg @ git+{url}@{git(repo, 'rev-parse', 'HEAD')}"
        )
        handler.log.clear()
        full_sha = sync(pinned, venv, cache)
        assert full_sha.code == 0, full_sha.err
        assert handler.log == []  # a full sha needs no ls-remote, and the commit is in the cache
    finally:
        server.shutdown()


def test_second_interpreter_adds_an_entry_for_a_non_pure_wheel(index, backends: Path, tmp_path: Path) -> None:
    from tests.test_sync_e2e import other_python

    python312 = other_python()
    make_sdist(backends, "native", "1.0", backend="setuptools", ext_module=True)
    lock = lock_file(tmp_path / "lock.txt", index.url, "native==1.0")
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "v311", cache).code == 0
    run = sync(lock, tmp_path / "v312", cache, f"python={python312}")
    assert run.code == 0, run.err
    (meta,) = metadata_files(cache)
    wheels = sorted(json.loads(meta.read_text())["data"])
    assert len(wheels) == 2 and any("cp311" in w for w in wheels) and any("cp312" in w for w in wheels)
    assert len(built_wheels(cache)) == 2
    assert sync(lock, tmp_path / "v311b", cache).code == 0  # both stay: the 3.11 one is reused
    assert len(built_wheels(cache)) == 2


def test_build_meta_task_writes_metadata_and_says_where(index, backends: Path, tmp_path: Path) -> None:
    project = make_sdist_dir(tmp_path / "proj", "proj", "1.0", backend="hatchling", requires_dist=["dep>=1"])
    lock = lock_file(tmp_path / "lock.txt", index.url, f"proj @ {project.as_uri()}")
    cache = tmp_path / "cache"
    run = doit("build_meta:proj", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={cache}")
    assert run.code == 0, run.err
    (meta,) = metadata_files(cache)
    assert f"build_meta:proj: {meta}" in run.out
    data = json.loads(meta.read_text())
    assert data["prepared"]["requires-dist"] == ["dep>=1"] and data["data"] == {}  # no wheel was built
    assert not (tmp_path / "venv").exists()


def test_lock_builds_metadata_for_sdist_only_dependencies(index, backends: Path, tmp_path: Path) -> None:
    make_wheel(backends, "app", "1.0", requires_dist=["sdonly"])
    make_sdist(backends, "sdonly", "2.0", backend="flit", requires_dist=["dep"])
    make_wheel(backends, "dep", "1.0")
    (tmp_path / "in.in").write_text(f"-i {index.url}\napp\n")
    run = doit(
        "lock", f"req={tmp_path / 'in.in'}", f"out={tmp_path / 'out.txt'}", f"cache={tmp_path / 'cache'}"
    )
    assert run.code == 0, run.err
    text = (tmp_path / "out.txt").read_text()
    assert "sdonly==2.0" in text and "dep==1.0" in text


@pytest.mark.parametrize("case", ["backend", "ref", "url", "empty", "name"])
def test_bad_sources_fail_with_one_clear_line(
    index, backends: Path, repo: Path, tmp_path: Path, case: str
) -> None:
    make_wheel(backends, "good", "1.0")
    broken = make_sdist_dir(
        tmp_path / "broken",
        "broken",
        "1.0",
        backend="setuptools",
        files={"setup.py": "raise SystemExit('setup.py exploded on purpose')\n"},
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README").write_text("no project here\n")
    named = make_sdist_dir(tmp_path / "named", "realname", "1.0", backend="flit")
    line, words = {
        "backend": (f"broken @ {broken.as_uri()}", ["broken", "build backend failed", "exploded on purpose"]),
        "ref": (f"gitpkg @ git+{repo.as_uri()}@no-such-branch", ["gitpkg", "does not exist"]),
        "url": ("gone @ http://127.0.0.1:9/gone-1.0.tar.gz", ["gone", "127.0.0.1:9"]),
        "empty": (f"empty @ {empty.as_uri()}", ["empty", "no Python project"]),
        "name": (f"wrongname @ {named.as_uri()}", ["wrongname", "realname"]),
    }[case]
    lock = lock_file(tmp_path / "lock.txt", index.url, "good==1.0", line)
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    run = sync(lock, venv, cache)
    assert run.code == 1
    assert "Traceback" not in run.err
    assert len(run.errors) == 1, run.err
    assert all(w in run.err for w in words), run.err
    assert not venv.exists()
    assert (cache / "archive-v0").is_dir()  # the good package's result is kept
    assert metadata_files(cache) == []


def test_lock_pins_git_refs_to_their_commit(index, backends: Path, repo: Path, tmp_path: Path) -> None:
    (tmp_path / "in.in").write_text(f"-i {index.url}\ngitpkg @ git+{repo.as_uri()}@main\n")
    run = doit(
        "lock", f"req={tmp_path / 'in.in'}", f"out={tmp_path / 'out.txt'}", f"cache={tmp_path / 'cache'}"
    )
    assert run.code == 0, run.err
    commit = git(repo, "rev-parse", "HEAD")
    assert f"gitpkg @ git+{repo.as_uri()}@{commit}" in (tmp_path / "out.txt").read_text()


HOOK_LOGGING_BACKEND = '''
"""An in-tree backend that logs each hook it runs, around flit_core's."""
import os
from flit_core import buildapi


def _logged(name):
    def hook(*args, **kwargs):
        with open({log!r}, "a") as log:
            log.write(name + "\\n")
        return getattr(buildapi, name)(*args, **kwargs)
    return hook


for _name in ("get_requires_for_build_wheel", "prepare_metadata_for_build_wheel", "build_wheel"):
    globals()[_name] = _logged(_name)
'''


def hook_logging_project(root: Path, name: str, log: Path) -> Path:
    project = make_sdist_dir(root, name, "1.0", backend="flit")
    pyproject = project / "pyproject.toml"
    flit, ours = 'build-backend = "flit_core.buildapi"', 'build-backend = "hooklog"\nbackend-path = ["."]'
    pyproject.write_text(pyproject.read_text().replace(flit, ours))
    (project / "hooklog.py").write_text(HOOK_LOGGING_BACKEND.format(log=str(log)))
    return project


@pytest.mark.parametrize("where", ["git", "path"])
def test_a_tree_in_the_cache_is_asked_its_build_requirements_once_per_run(
    index, backends: Path, tmp_path: Path, where: str
) -> None:
    log = tmp_path / "hooks.log"
    project = hook_logging_project(tmp_path / "logged", "logged", log)
    if where == "git":
        git(project, "init", "-q", "-b", "main")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "one")
    line = f"logged @ git+{project.as_uri()}@main" if where == "git" else f"logged @ {project.as_uri()}"
    lock = lock_file(tmp_path / "lock.txt", index.url, line)
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"logged": "1.0"}
    asked = log.read_text().splitlines().count("get_requires_for_build_wheel")
    assert asked == (1 if where == "git" else 2), log.read_text()  # a local project may change meanwhile
