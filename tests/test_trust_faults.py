"""Concurrency, network faults and machine faults, end to end: real processes, loopback index, real mounts.

Each fault ends in one `error:` line naming the package or task and the cause, a non-zero exit,
no traceback on the terminal, and the cache and the environment as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import DOIT, ROOT, Run, installed, sync, tree_snapshot
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist_dir, make_wheel, wheel_filename

pytestmark = pytest.mark.usefixtures("isolated_env")
NAMES = ("pkga", "pkgb", "pkgc")


def publish(wheelhouse: Path) -> None:
    for name in NAMES:
        make_wheel(wheelhouse, name, "1.0", files={f"{name}/__init__.py": "V = 1\n" * 2000})


def write_lock(path: Path, index_url: str, *lines: str) -> Path:
    path.write_text("\n".join([f"--index-url {index_url}", *lines]) + "\n")
    return path


def lock_all(tmp_path: Path, index_url: str) -> Path:
    return write_lock(tmp_path / "lock.txt", index_url, *(f"{n}==1.0" for n in NAMES))


def start_sync(req: Path, venv: Path, cache: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, WHEELWRIGHT_CWD=str(ROOT))
    words = [*DOIT, "sync", f"req={req}", f"venv={venv}", f"cache={cache}", *extra]
    return subprocess.Popen(
        words, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str], timeout: float = 180) -> Run:
    out, err = process.communicate(timeout=timeout)
    return Run(process.returncode, out, err)


def assert_one_error(run: Run, *words: str, status: int = 1) -> str:
    """One `error:` line naming `words`, no traceback, and the README's exit status (1: a failure)."""
    assert run.code == status, (run.code, run.err)
    assert "Traceback" not in run.err, run.err
    assert len(run.errors) == 1, run.err
    assert all(w in run.errors[0] for w in words), run.err
    return run.errors[0]


def leftovers(cache: Path) -> list[Path]:
    """Files a failed download could leave: anything under downloads-v0."""
    return [p for p in (cache / "downloads-v0").rglob("*") if p.is_file()]


# --- concurrency -------------------------------------------------------------------------------


def test_four_syncs_into_one_venv_all_succeed(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    overlap(index)
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    runs = [finish(p) for p in [start_sync(lock, venv, cache) for _ in range(4)]]
    for run in runs:
        assert run.code == 0, run.err
        assert run.errors == []
    assert installed(venv) == {n: "1.0" for n in NAMES}
    assert sum(", created)" in run.out for run in runs) == 1
    assert sum(" + pkga==1.0" in run.out for run in runs) == 1


def test_a_waiting_sync_says_so_once_and_then_succeeds(index, wheelhouse: Path, tmp_path: Path) -> None:
    from tasks.core.mutexes import venv_lock

    publish(wheelhouse)
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with venv_lock(cache, venv):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        process = start_sync(lock, venv, cache)
        threading.Timer(4.0, release.set).start()
        run = finish(process)
    finally:
        release.set()
        holder.join()
    assert run.code == 0, run.err
    assert run.err.count(f"waiting for another sync of {venv}") == 1, run.err
    assert installed(venv) == {n: "1.0" for n in NAMES}


def test_four_venvs_on_one_cold_cache_download_each_file_once(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    publish(wheelhouse)
    overlap(index)
    lock, cache = lock_all(tmp_path, index.url), tmp_path / "cache"
    venvs = [tmp_path / f"venv{i}" for i in range(4)]
    runs = [finish(p) for p in [start_sync(lock, venv, cache) for venv in venvs]]
    for run in runs:
        assert run.code == 0, run.err
    for venv in venvs:
        assert installed(venv) == {n: "1.0" for n in NAMES}
    for name in NAMES:
        assert index.count(f"/files/{wheel_filename(name, '1.0')}") == 1, index.requests
    assert sum("waiting for another download of" in run.err for run in runs) >= 3  # they overlapped


def overlap(index: IndexServer, runs: int = 4) -> None:
    """Make `runs` concurrent syncs overlap for certain: pkga's page answers when all have asked
    for it, and each file's first answer waits for every run to ask (2 s at most: with the
    download lock only one asks, and the others are waiting on the lock meanwhile)."""
    index.hold("/simple/pkga", clients=runs)
    for name in NAMES:
        index.hold(f"/files/{wheel_filename(name, '1.0')}", clients=runs, timeout=2.0)


# --- network ------------------------------------------------------------------------------------


def test_429_without_retry_after_is_retried_and_with_it_honoured(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    publish(wheelhouse)
    index.throttle("/files/pkga", times=2)  # no Retry-After: backoff
    index.throttle("/simple/pkgb", times=2)  # the index page too
    index.throttle("/files/pkgc", times=1, retry_after="2")
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {n: "1.0" for n in NAMES}
    statuses = [r.status for r in index.requests if r.path == f"/files/{wheel_filename('pkga', '1.0')}"]
    assert statuses == [429, 429, 200]
    assert [r.status for r in index.requests if r.path.startswith("/simple/pkgb")] == [429, 429, 200]
    told = [r for r in index.requests if r.path == f"/files/{wheel_filename('pkgc', '1.0')}"]
    assert [r.status for r in told] == [429, 200]
    assert told[1].at - told[0].at >= 1.9  # it waited the 2 s it was told (backoff alone: 0 s)


def test_429_for_good_fails_in_one_line(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    index.throttle("/files/pkga", times=100)
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    assert_one_error(sync(lock, venv, cache), "pkga", "429")
    tries = [r.status for r in index.requests if r.path == f"/files/{wheel_filename('pkga', '1.0')}"]
    assert tries == [429] * 6  # the first try and 5 retries, as the README says
    assert not venv.exists()
    assert leftovers(cache) == []


def test_a_stalled_download_gives_up_in_bounded_time(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    index.stall("/files/pkga", times=100, seconds=120)  # headers, then nothing
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    run = sync(lock, venv, cache, "timeout=2")  # e2e.doit's own 180 s timeout would raise on a hang
    assert_one_error(run, "pkga", "read timeout", "no data for 2s")
    assert not venv.exists()
    assert leftovers(cache) == []
    assert (cache / "archive-v0").is_dir()  # the other packages' results are kept


def test_a_bad_timeout_value_is_one_line(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    lock, venv, cache = lock_all(tmp_path, index.url), tmp_path / "venv", tmp_path / "cache"
    assert_one_error(sync(lock, venv, cache, "timeout=soon"), "timeout=soon", status=3)  # a bad command
    assert not venv.exists()


# --- git and requirement input ----------------------------------------------------------------


def git_repo(path: Path) -> Path:
    make_sdist_dir(path, "gitpkg", "1.0", backend="flit", files={"gitpkg/__init__.py": '"""g."""\n'})
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
        "HOME": str(path.parent),
        "PATH": "/usr/bin:/bin",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, env=env)
    return path


@pytest.mark.parametrize("case", ["option", "ext"])
def test_git_refs_and_transports_that_run_commands_are_refused(index, tmp_path: Path, case: str) -> None:
    victim = tmp_path / "pwned"
    repo = git_repo(tmp_path / "repo")
    line, words = {
        "option": (f"gitpkg @ git+{repo.as_uri()}@--upload-pack=touch%20{victim}", ["gitpkg", "not allowed"]),
        "ext": (f"gitpkg @ git+ext::sh%20-c%20touch%20{victim}@main", ["gitpkg", "'ext' is not allowed"]),
    }[case]
    lock = write_lock(tmp_path / "lock.txt", index.url, line)
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    assert_one_error(sync(lock, venv, cache), *words)
    assert not victim.exists()
    assert not venv.exists()


def test_a_missing_git_repository_says_it_cannot_be_read(index, tmp_path: Path) -> None:
    gone = tmp_path / "no-such-repo"
    lock = write_lock(tmp_path / "lock.txt", index.url, f"gitpkg @ git+{gone.as_uri()}@main")
    line = assert_one_error(sync(lock, tmp_path / "venv", tmp_path / "cache"), "gitpkg")
    assert f"cannot read the git repository {gone.as_uri()}" in line
    assert "repository exists" not in line


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_hash_on_a_git_or_directory_requirement_is_refused(index, tmp_path: Path, kind: str) -> None:
    repo = git_repo(tmp_path / "repo")
    url = f"git+{repo.as_uri()}@main" if kind == "git" else repo.as_uri()
    lock = write_lock(tmp_path / "lock.txt", index.url, f"gitpkg @ {url} --hash=sha256:{'0' * 64}")
    words = ["--hash cannot verify", "git repository" if kind == "git" else "local directory"]
    assert_one_error(sync(lock, tmp_path / "venv", tmp_path / "cache"), *words)
    assert not (tmp_path / "venv").exists()


def test_venv_that_is_a_regular_file_is_one_line(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    target = tmp_path / "afile"
    target.write_text("keep me\n")
    assert_one_error(sync(lock_all(tmp_path, index.url), target, tmp_path / "cache"), "not a directory")
    assert target.read_text() == "keep me\n"


# --- machine faults ---------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A small real file system at `path` (needs root, as on our machines and CI; else skipped)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_full_disk_in_the_cache_is_one_line(index, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "big", "1.0", files={"big/data.bin": os.urandom(3 << 20)})
    lock = write_lock(tmp_path / "lock.txt", index.url, "big==1.0")
    venv = tmp_path / "venv"
    with tmpfs(tmp_path / "small", "2m") as small:
        cache = small / "cache"
        line = assert_one_error(sync(lock, venv, cache), "big", "no space left on device")
        assert line.startswith("error: fetch:big: ")
        assert leftovers(cache) == []
        assert not venv.exists()
        assert not (cache / "logs").exists()  # a machine fault, not an internal error


def test_a_warm_read_only_cache_syncs_with_state_kept_per_user(
    index, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI image's cache baked read-only: everything the sync needs is there, so it works."""
    publish(wheelhouse)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    lock, venv = lock_all(tmp_path, index.url), tmp_path / "venv"
    with tmpfs(tmp_path / "ro", "20m") as mount:
        cache = mount / "cache"
        assert sync(lock, venv, cache).code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        before = tree_snapshot(cache)
        index.clear_log()
        other = tmp_path / "other"
        run = sync(lock, other, cache)
        assert run.code == 0, run.err
        (line,) = [w for w in run.err.splitlines() if w.startswith("warning:")]
        assert str(cache) in line and "read-only" in line and str(tmp_path / "state") in line, line
        assert installed(other) == {n: "1.0" for n in NAMES}
        assert index.requests == []  # all from the cache
        again = sync(lock, other, cache)  # the per-user state remembers the last sync: nothing to do
        assert again.code == 0 and "sync:default" not in again.ran and "fetch:pkga" not in again.ran, (
            again.err
        )
        assert (tmp_path / "state" / "wheelwright").is_dir()
        assert tree_snapshot(cache) == before
        assert installed(venv) == {n: "1.0" for n in NAMES}


def test_a_cold_read_only_cache_is_one_line(
    index, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(wheelhouse)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    lock, venv = lock_all(tmp_path, index.url), tmp_path / "venv"
    with tmpfs(tmp_path / "ro", "20m") as mount:
        cache = mount / "cache"
        assert sync(write_lock(tmp_path / "one.txt", index.url, "pkga==1.0"), venv, cache).code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        other = tmp_path / "other"
        line = assert_one_error(sync(lock, other, cache), str(cache), "not writable")  # pkgb, pkgc: not there
        assert "cache=DIR" in line and "Traceback" not in line
        assert not other.exists()
        assert installed(venv) == {"pkga": "1.0"}


# --- the last line of defence ------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_with_a_log(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "downloads-v0").write_text("a file where the cache keeps a directory\n")
    lock = write_lock(tmp_path / "lock.txt", index.url, "pkga==1.0")
    line = assert_one_error(sync(lock, tmp_path / "venv", cache), "fetch:pkga", status=2)  # internal
    match = re.fullmatch(r"error: fetch:pkga: internal error: (\w+Error): .+ \(details: (.+)\)", line)
    assert match, line
    log = Path(match.group(2))
    assert log.parent == cache / "logs"
    text = log.read_text()
    assert text.startswith("Traceback") and match.group(1) in text
    assert not (tmp_path / "venv").exists()
