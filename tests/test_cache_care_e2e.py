"""`./doit cache` and `./doit prune` end to end: real builds (flit) from git and path sources on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.e2e import DOIT, ROOT, doit, installed, sync
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist_dir, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")
TEST_WHEELS = ROOT / ".wheelwright" / "test-wheels"


@pytest.fixture
def backends(wheelhouse: Path) -> Path:
    wheels = sorted(TEST_WHEELS.glob("*.whl"))
    if not wheels:
        pytest.fail("no build backends in .wheelwright/test-wheels: run `./doit test_wheels`")
    for wheel in wheels:
        shutil.copy(wheel, wheelhouse)
    return wheelhouse


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def commit(repo: Path, body: str) -> str:
    make_sdist_dir(repo, "gitpkg", "1.0", backend="flit", files={"gitpkg/__init__.py": f'"""g."""\n{body}\n'})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", body)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def project(index: IndexServer, backends: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A lock naming a git source, a local path and an index wheel; and the git repository."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "ONE = 1")
    path = make_sdist_dir(tmp_path / "pathpkg", "pathpkg", "1.0", backend="flit")
    make_wheel(backends, "plain", "1.0")
    lock = tmp_path / "lock.txt"
    lines = [f"--index-url {index.url}", "plain==1.0", f"gitpkg @ git+{repo.as_uri()}@main"]
    lock.write_text("\n".join([*lines, f"pathpkg @ {path.as_uri()}"]) + "\n")
    return lock, repo


def builds(events: Path) -> list[str]:
    """The wheels built from source in the runs that wrote `events`."""
    if not events.exists():
        return []
    rows = [json.loads(line) for line in events.read_text().splitlines()]
    return [r["package"] for r in rows if r["kind"] == "built" and r.get("filename", "").endswith(".whl")]


def test_cache_shows_each_family_with_its_size_and_entries(
    project: tuple[Path, Path], tmp_path: Path
) -> None:
    lock, _ = project
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    shown = doit("cache", f"cache={cache}")
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[0].startswith(f"cache {cache}: ")
    rows = {line.split()[0]: line.split() for line in shown.out.splitlines()[1:]}
    assert {"archive-v0", "built-wheels-v0", "built-wheel-metadata-v0", "git-v0", "build-envs-v0"} <= set(
        rows
    )
    assert rows["built-wheels-v0"][3] == "2"  # the git and the path source: one bucket each
    assert rows["built-wheel-metadata-v0"][3] == "2"


def test_prune_removes_superseded_commits_and_keeps_what_syncs_use(
    project: tuple[Path, Path], tmp_path: Path
) -> None:
    lock, repo = project
    cache, events = tmp_path / "cache", tmp_path / "events.jsonl"
    first = git(repo, "rev-parse", "HEAD")
    assert sync(lock, tmp_path / "venv", cache).code == 0
    second = commit(repo, "TWO = 2")
    assert sync(lock, tmp_path / "venv", cache).code == 0
    assert list((cache / "built-wheels-v0" / "git").glob(f"*/{first}"))  # both commits built so far
    pruned = doit("prune", f"cache={cache}")
    assert pruned.code == 0, pruned.err
    assert "removed built-wheels-v0/git/" in pruned.out and f"{first[:12]}" in pruned.out
    assert "was superseded by" in pruned.out and pruned.out.splitlines()[-1].startswith(f"pruned {cache}: ")
    assert not list((cache / "built-wheels-v0" / "git").glob(f"*/{first}"))
    assert list((cache / "built-wheels-v0" / "git").glob(f"*/{second}"))
    env = {**os.environ, "WHEELWRIGHT_EVENTS": str(events)}
    again = doit("sync", f"req={lock}", f"venv={tmp_path / 'venv2'}", f"cache={cache}", env=env)
    assert again.code == 0, again.err
    assert builds(events) == []  # what the current locks use was kept


def test_prune_ci_keeps_only_builds_and_a_new_venv_builds_nothing(
    project: tuple[Path, Path], tmp_path: Path
) -> None:
    lock, _ = project
    cache, events = tmp_path / "cache", tmp_path / "events.jsonl"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    pruned = doit("prune", f"cache={cache}", "ci=1")
    assert pruned.code == 0, pruned.err
    left = {p.name for p in cache.iterdir()}
    assert left <= {
        "built-wheels-v0",
        "built-wheel-metadata-v0",
        "git-v0",
        "state-v0",
        "interpreters-v0",
        "locks-v0",
        "chosen-v0",
        "confirmed-v0",
    } | {name for name in left if name.startswith(".")}
    assert [p.name for p in (cache / "git-v0").iterdir()] == ["db"]
    assert {p.name for p in (cache / "locks-v0").iterdir()} == {"cache.lock", "cache-gate.lock"}
    env = {**os.environ, "WHEELWRIGHT_EVENTS": str(events)}
    again = doit("sync", f"req={lock}", f"venv={tmp_path / 'venv2'}", f"cache={cache}", env=env)
    assert again.code == 0, again.err
    assert builds(events) == []
    assert installed(tmp_path / "venv2") == {"plain": "1.0", "gitpkg": "1.0", "pathpkg": "1.0"}


def test_prune_days_removes_entries_unused_that_long(project: tuple[Path, Path], tmp_path: Path) -> None:
    lock, _ = project
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    old = time.time() - 40 * 86400
    envs = [p for p in (cache / "build-envs-v0").iterdir() if p.is_dir()]
    for marker in [
        *(cache / "archive-v0").glob("*/.wheelwright-wheel.json"),
        *(e / ".complete" for e in envs),
    ]:
        os.utime(marker, (old, old))
    fresh = doit("prune", f"cache={cache}", "days=50")
    assert fresh.code == 0 and "removed archive-v0" not in fresh.out
    aged = doit("prune", f"cache={cache}", "days=30")
    assert aged.code == 0, aged.err
    assert "unused for 40 days" in aged.out
    assert not (cache / "archive-v0").exists() and not (cache / "build-envs-v0").exists()
    assert list((cache / "built-wheels-v0").rglob("*.whl"))  # built wheels are not aged out
    assert sync(lock, tmp_path / "venv2", cache).code == 0


def test_prune_max_size_removes_least_recently_used_first(project: tuple[Path, Path], tmp_path: Path) -> None:
    lock, _ = project
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    roomy = doit("prune", f"cache={cache}", "max-size=1G")
    assert roomy.code == 0 and "least recently used" not in roomy.out
    tight = doit("prune", f"cache={cache}", "max-size=1")
    assert tight.code == 0, tight.err
    assert "least recently used" in tight.out
    assert not list((cache / "built-wheels-v0").rglob("*.whl"))
    assert any(cache.glob("state-v0/*/doit-state.sqlite3")) and (cache / "interpreters-v0").is_dir()
    assert sync(lock, tmp_path / "venv2", cache).code == 0  # everything is made again
    wrong = doit("prune", f"cache={cache}", "max-size=lots")
    assert wrong.code == 1 and wrong.errors == [
        "error: max-size=lots: give a size such as max-size=500M or max-size=2G"
    ]


def test_a_prune_waits_for_a_running_sync_which_finishes_correctly(
    index: IndexServer, project: tuple[Path, Path], tmp_path: Path
) -> None:
    lock, _ = project
    cache, events = tmp_path / "cache", tmp_path / "events.jsonl"
    index.delay("/files/plain", seconds=4)  # keeps the sync inside its run while the prune starts
    env = {**os.environ, "WHEELWRIGHT_EVENTS": str(events), "WHEELWRIGHT_CWD": str(ROOT)}
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={cache}"]
    syncing = subprocess.Popen(
        [*DOIT, *words], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while not events.exists() or '"kind": "started"' not in events.read_text():
        assert syncing.poll() is None, syncing.communicate()
        time.sleep(0.05)
    pruning = subprocess.Popen(
        [*DOIT, "prune", f"cache={cache}", "ci=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    while syncing.poll() is None:
        assert pruning.poll() is None, "the prune finished while a sync was running"
        time.sleep(0.05)
    _, err = syncing.communicate()
    assert syncing.returncode == 0, err
    _, pruned_err = pruning.communicate(timeout=120)
    assert pruning.returncode == 0, pruned_err
    assert f"waiting for the runs using {cache} to finish" in pruned_err.decode()
    assert installed(tmp_path / "venv") == {"plain": "1.0", "gitpkg": "1.0", "pathpkg": "1.0"}


def test_a_sync_started_during_a_prune_waits_then_runs_on_the_pruned_cache(
    project: tuple[Path, Path], tmp_path: Path
) -> None:
    from tasks.core.rwlock import exclusive_cache

    lock, _ = project
    cache = tmp_path / "cache"
    assert sync(lock, tmp_path / "venv", cache).code == 0
    env = {**os.environ, "WHEELWRIGHT_CWD": str(ROOT)}
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv2'}", f"cache={cache}"]
    with exclusive_cache(cache):  # this process is the prune: it has the cache to itself
        syncing = subprocess.Popen(
            [*DOIT, *words], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        said = _first_line(syncing, "waiting for a prune of")
        assert said == f"waiting for a prune of {cache} to finish"
        assert syncing.poll() is None
        shutil.rmtree(cache / "archive-v0")  # what a prune may remove under its lock
    _, err = syncing.communicate(timeout=120)
    assert syncing.returncode == 0, err
    assert installed(tmp_path / "venv2") == {"plain": "1.0", "gitpkg": "1.0", "pathpkg": "1.0"}


def _first_line(process: subprocess.Popen[bytes], prefix: str) -> str:
    """The first line of the process's stderr starting with `prefix` (read in a thread, 60 s at most)."""
    found: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode().rstrip("\n")
            if line.startswith(prefix):
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)
    return found[0] if found else ""


def test_a_sync_arriving_while_a_prune_waits_goes_after_the_prune(
    index: IndexServer, project: tuple[Path, Path], tmp_path: Path
) -> None:
    """The gate: sync A runs, a real `./doit prune` waits for it, sync B arrives and waits for the
    prune (a stream of syncs cannot starve a prune); then all three finish."""
    import urllib.request

    lock, _ = project
    cache, events = tmp_path / "cache", tmp_path / "events.jsonl"
    plain = "/files/plain-1.0-py3-none-any.whl"
    index.hold(plain, clients=2, timeout=120)  # A stays in its run until this test asks for the file too
    env = {**os.environ, "WHEELWRIGHT_EVENTS": str(events), "WHEELWRIGHT_CWD": str(ROOT)}

    def start(*words: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*DOIT, *words], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    sync_a = start("sync", f"req={lock}", f"venv={tmp_path / 'a'}", f"cache={cache}")
    while not events.exists() or '"kind": "started"' not in events.read_text():
        assert sync_a.poll() is None, sync_a.communicate()
        time.sleep(0.05)
    pruning = start("prune", f"cache={cache}", "ci=1")
    assert (
        _first_line(pruning, "waiting for the runs using") == f"waiting for the runs using {cache} to finish"
    )
    sync_b = start("sync", f"req={lock}", f"venv={tmp_path / 'b'}", f"cache={cache}")
    assert _first_line(sync_b, "waiting for a prune of") == f"waiting for a prune of {cache} to finish"
    assert sync_a.poll() is None and pruning.poll() is None  # A still runs: B waits for the prune, not A
    urllib.request.urlopen(f"http://127.0.0.1:{index.port}{plain}", timeout=30).read()  # releases A
    for process in (sync_a, pruning, sync_b):
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    for venv in ("a", "b"):
        assert installed(tmp_path / venv) == {"plain": "1.0", "gitpkg": "1.0", "pathpkg": "1.0"}


def test_after_prune_days_0_a_sync_of_a_matching_venv_downloads_nothing(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    make_wheel(wheelhouse, "beta", "2.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\nbeta==2.0\n")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    assert sync(lock, venv, cache).code == 0
    assert doit("prune", "days=0", f"cache={cache}").code == 0
    assert not any((cache / "archive-v0").glob("[!.]*"))  # every unpacked wheel is gone
    index.clear_log()
    again = sync(lock, venv, cache)
    assert again.code == 0, again.err
    assert not [r.path for r in index.requests if r.path.endswith(".whl")]  # nothing downloaded
    assert not any((cache / "archive-v0").glob("[!.]*")) and installed(venv) == {
        "alpha": "1.0",
        "beta": "2.0",
    }
