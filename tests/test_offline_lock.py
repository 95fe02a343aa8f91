"""`offline=1` opens no socket, in `lock` and in `sync` with source builds: the cache answers or the run
names what is missing in one line. Every connect is recorded (a sitecustomize on PYTHONPATH), and where
the machine allows, a run goes without any network at all (`unshare -n`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e import DOIT, ROOT, doit, installed, sync
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import TEST_WHEELS
from tests.test_run_views import GUARD

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def backends(wheelhouse: Path) -> Path:
    """The pinned build backends on the loopback index (as tests/test_build_e2e.py serves them)."""
    wheels = sorted(TEST_WHEELS.glob("*.whl"))
    if not wheels:
        pytest.fail("no build backends in .wheelwright/test-wheels: run `./doit test_wheels`")
    for wheel in wheels:
        shutil.copy(wheel, wheelhouse)
    return wheelhouse


def guard_sockets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """From now on every process of the test records (and refuses) each socket connect; the log's path."""
    guard, attempts = tmp_path / "guard", tmp_path / "connects.log"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD)
    monkeypatch.setenv("PYTHONPATH", str(guard))
    monkeypatch.setenv("SOCKET_LOG", str(attempts))
    return attempts


def lock(req: Path, out: Path, cache: Path, *extra: str):  # type: ignore[no-untyped-def]
    return doit("lock", f"req={req}", f"out={out}", f"cache={cache}", *extra)


def test_lock_offline_resolves_from_the_cached_pages_and_metadata(
    index, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    index.max_age = 0  # every cached page is stale: only an offline run uses it without asking
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    req.write_text(f"-i {index.url}\napp\n")
    assert lock(req, out, cache).code == 0
    written = out.read_text()
    index.stop()
    attempts = guard_sockets(tmp_path, monkeypatch)

    again = lock(req, out, cache, "offline=1", "upgrade=1")  # upgrade: resolve, not doit's "up to date"
    assert again.code == 0, again.err
    assert out.read_text() == written
    assert "Offline: skipped index revalidation: resolved from the cache" in again.out

    req.write_text(f"-i {index.url}\napp\ngamma\n")
    missing = lock(req, out, cache, "offline=1")
    assert missing.code != 0 and out.read_text() == written
    assert missing.errors == [f"error: offline, and not in the cache: would fetch {index.url}/gamma/"], (
        missing.err
    )
    assert not attempts.exists()  # no process of these runs opened a connection


def test_sync_offline_builds_with_a_build_environment_from_the_cache(
    index,
    backends: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    first = make_sdist_dir(tmp_path / "first", "first", "1.0")  # setuptools: its build requirement
    second = make_sdist_dir(tmp_path / "second", "second", "1.0")
    lock_one = tmp_path / "one.txt"
    lock_one.write_text(f"--index-url {index.url}\nfirst @ {first.as_uri()}\n")
    lock_two = tmp_path / "two.txt"
    lock_two.write_text(f"--index-url {index.url}\nsecond @ {second.as_uri()}\n")
    attempts = guard_sockets(tmp_path, monkeypatch)

    cold = sync(lock_one, tmp_path / "cold", cache, "offline=1")
    assert cold.code != 0 and len(cold.errors) == 1, cold.err
    assert "first" in cold.errors[0] and "build requirements ['setuptools']" in cold.errors[0]
    assert f"offline, and not in the cache: would fetch {index.url}/setuptools/" in cold.errors[0]
    assert "Traceback" not in cold.err and not attempts.exists()

    monkeypatch.delenv("PYTHONPATH")
    assert sync(lock_one, tmp_path / "venv1", cache).code == 0  # online: the build environment is made
    index.stop()
    guard_sockets(tmp_path, monkeypatch)
    warm = sync(lock_two, tmp_path / "venv2", cache, "offline=1")  # a new project, the same backend
    assert warm.code == 0, warm.err
    assert installed(tmp_path / "venv2") == {"second": "1.0"}
    shutil.rmtree(cache / "build-envs-v0")  # no environment made: one from cached pages and wheels
    third = make_sdist_dir(tmp_path / "third", "third", "1.0")
    lock_three = tmp_path / "three.txt"
    lock_three.write_text(f"--index-url {index.url}\nthird @ {third.as_uri()}\n")
    again = sync(lock_three, tmp_path / "venv3", cache, "offline=1")
    assert again.code == 0, again.err
    assert installed(tmp_path / "venv3") == {"third": "1.0"}
    assert not attempts.exists()


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root for `unshare -n`"
)
def test_offline_runs_without_a_network_namespace(index, wheelhouse: Path, tmp_path: Path) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    req.write_text(f"-i {index.url}\napp\n")
    assert lock(req, out, cache).code == 0
    assert sync(out, tmp_path / "venv", cache).code == 0
    env = {**os.environ, "WHEELWRIGHT_CWD": str(ROOT), "WHEELWRIGHT_EVENTS": str(tmp_path / "ev.jsonl")}

    def cut_off(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["unshare", "-n", *DOIT, *words], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )

    relock = cut_off("lock", f"req={req}", f"out={out}", f"cache={cache}", "offline=1", "upgrade=1")
    assert relock.returncode == 0, relock.stderr
    resync = cut_off("sync", f"req={out}", f"venv={tmp_path / 'venv2'}", f"cache={cache}", "offline=1")
    assert resync.returncode == 0, resync.stderr
    assert installed(tmp_path / "venv2") == {"app": "1.0", "lib": "1.0"}


def test_offline_refuses_a_git_remote_but_not_a_local_repository() -> None:
    from tasks.core.errors import OfflineMissing
    from tasks.inputs.sources import GitSource
    from tasks.source.git import resolve_ref

    remote = GitSource("https://127.0.0.1:9/repo.git", "main")
    with pytest.raises(OfflineMissing) as refused:
        resolve_ref(remote, package="mine", offline=True)  # what an offline run's network hands it
    assert str(refused.value) == (
        "mine (git+https://127.0.0.1:9/repo.git@main): offline, and not in the cache: "
        "would run git ls-remote https://127.0.0.1:9/repo.git main"
    )
    sha = "0" * 40
    assert resolve_ref(GitSource("https://127.0.0.1:9/repo.git", sha), package="mine", offline=True) == sha
