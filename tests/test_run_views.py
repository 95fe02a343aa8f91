"""What a run shows and what it may do: plain progress lines, quiet, dry run, check, JSON report, offline."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.e2e import doit, installed, sync, tree_snapshot
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def publish(wheelhouse: Path) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    make_wheel(wheelhouse, "alpha", "2.0")
    make_wheel(wheelhouse, "beta", "1.0")
    make_wheel(wheelhouse, "gamma", "1.0")
    # incompressible, so the wheel itself is above 1 MiB
    make_wheel(wheelhouse, "big", "1.0", files={"big/blob.bin": os.urandom(3 << 19)})


def hashed(wheelhouse: Path, pin: str) -> str:
    """`name==version --hash=sha256:…` for the wheel of `pin` in the wheelhouse (as ./doit lock writes)."""
    name, _, version = pin.partition("==")
    (wheel,) = wheelhouse.glob(f"{name}-{version}-*.whl")
    return f"{pin} --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"


def write_lock(path: Path, url: str, *pins: str) -> Path:
    path.write_text("\n".join([f"--index-url {url}", *pins]) + "\n")
    return path


def test_plain_lines_off_a_terminal_and_quiet(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0", "big==1.0")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    downloads = [line for line in run.out.splitlines() if line.startswith("Downloaded ")]
    assert len(downloads) == 1 and downloads[0].startswith(
        "Downloaded big (big-1.0-py3-none-any.whl, 1.5 MiB)"
    )
    assert "Prepared 2 packages in " in run.out and " + alpha==1.0\n + big==1.0\n" in run.out
    assert "\x1b" not in run.out + run.err and "\r" not in run.out + run.err

    quiet = sync(write_lock(lock, index.url, "alpha==2.0"), tmp_path / "venv", tmp_path / "cache", "quiet=1")
    assert quiet.code == 0 and (quiet.out, quiet.err) == ("", "")
    assert installed(tmp_path / "venv") == {"alpha": "2.0"}
    failed = sync(
        write_lock(lock, index.url, "nosuch==1.0"), tmp_path / "venv", tmp_path / "cache", "quiet=1"
    )
    assert failed.code == 1 and failed.out == "" and len(failed.errors) == 1 and "nosuch" in failed.errors[0]


def test_dry_run_changes_nothing_and_check_is_a_gate(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0", "beta==1.0")
    assert sync(lock, venv, cache).code == 0
    assert doit("sync", f"req={lock}", f"venv={venv}", f"cache={cache}", "check=1").code == 0

    write_lock(lock, index.url, "alpha==2.0", "gamma==1.0")
    before = (tree_snapshot(cache), tree_snapshot(venv))
    index.clear_log()
    dry = sync(lock, venv, cache, "dry=1")
    assert dry.code == 0, dry.err
    assert "Would download alpha==2.0 (index)" in dry.out and "Would download gamma==1.0 (index)" in dry.out
    assert "Would uninstall 2 packages\nWould install 2 packages\n" in dry.out
    assert dry.out.endswith(" ~ alpha==1.0 -> 2.0\n - beta==1.0\n + gamma==1.0\n")
    assert (tree_snapshot(cache), tree_snapshot(venv)) == before and index.requests == []
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}

    check = sync(lock, venv, cache, "check=1")
    assert check.code == 1, check  # a failed gate is a failure (1), as any failed task
    assert check.errors == [
        f"error: cli: {venv} differs from the lock (1 to install, 1 to replace, 1 to remove)"
    ]
    assert (tree_snapshot(cache), tree_snapshot(venv)) == before

    new = tmp_path / "new-venv"
    fresh = sync(lock, new, cache, "dry=1")
    assert fresh.code == 0 and not new.exists() and f"({'cli'}: {new}, created)" in fresh.out
    assert sync(lock, new, cache, "check=1").code == 1 and not new.exists()


def test_report_on_success_and_on_failure(index, wheelhouse: Path, tmp_path: Path) -> None:
    publish(wheelhouse)
    venv, cache, report = tmp_path / "venv", tmp_path / "cache", tmp_path / "out" / "report.json"
    report.parent.mkdir()
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0", "beta==1.0")
    assert sync(lock, venv, cache, f"report={report}").code == 0
    doc = json.loads(report.read_text())
    assert doc["ok"] is True and doc["error"] is None and doc["offline"] is False
    assert doc["sources"]["alpha"]["kind"] == "registry" and doc["sources"]["alpha"]["version"] == "1.0"
    assert doc["sources"]["alpha"]["fresh"] is False and doc["sources"]["alpha"]["downloaded_bytes"] > 0
    env = doc["environments"]["cli"]
    assert env["path"] == str(venv) and env["created"] is True
    assert env["installed"] == [{"name": "alpha", "version": "1.0"}, {"name": "beta", "version": "1.0"}]
    assert {"prepare", "resolve", "install"} <= set(doc["phases"])

    write_lock(lock, index.url, "alpha==2.0")
    assert sync(lock, venv, cache, f"report={report}").code == 0
    doc = json.loads(report.read_text())
    env = doc["environments"]["cli"]
    assert env["replaced"] == [{"name": "alpha", "old": "1.0", "version": "2.0"}]
    assert env["removed"] == [{"name": "beta", "version": "1.0"}] and env["installed"] == []

    write_lock(lock, index.url, "alpha==2.0 --hash=sha256:" + "0" * 64)
    doit("forget", f"req={lock}", f"venv={venv}", f"cache={cache}")
    failed = sync(lock, tmp_path / "venv2", cache, f"report={report}")
    assert failed.code == 1
    doc = json.loads(report.read_text())
    assert (
        doc["ok"] is False
        and "0" * 64 in doc["error"]
        and [p.name for p in report.parent.iterdir()] == ["report.json"]
    )


GUARD = """
import os, socket
_log = os.environ["SOCKET_LOG"]
def _refuse(self, address, *args):
    with open(_log, "a") as f:
        f.write(repr(address) + "\\n")
    raise OSError("a socket connect in an offline run: " + repr(address))
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


PINS = ("alpha==1.0", "beta==1.0")


def test_offline_syncs_from_a_warm_cache_and_names_what_is_missing(
    index, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(wheelhouse)
    cache = tmp_path / "cache"
    lock = write_lock(tmp_path / "lock.txt", index.url, *PINS)
    hashed_lock = write_lock(tmp_path / "hashed.txt", index.url, *(hashed(wheelhouse, p) for p in PINS))
    assert sync(lock, tmp_path / "venv", cache).code == 0
    index.stop()
    guard, attempts = tmp_path / "guard", tmp_path / "connects.log"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    monkeypatch.setenv("PYTHONPATH", str(guard))
    monkeypatch.setenv("SOCKET_LOG", str(attempts))

    warm = sync(lock, tmp_path / "venv2", cache, "offline=1")
    assert warm.code == 0, warm.err
    assert installed(tmp_path / "venv2") == {"alpha": "1.0", "beta": "1.0"}
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip's own switch, with no find-links: offline too
    # a lock as ./doit lock writes it (with --hash): its wheels are found in the cache by their sha256
    pip_offline = sync(hashed_lock, tmp_path / "venv4", cache)
    assert pip_offline.code == 0, pip_offline.err
    assert installed(tmp_path / "venv4") == {"alpha": "1.0", "beta": "1.0"}
    monkeypatch.delenv("PIP_NO_INDEX")

    write_lock(lock, index.url, "alpha==1.0", "gamma==1.0")
    missing = sync(lock, tmp_path / "venv3", cache, "offline=1")
    assert missing.code == 1 and missing.errors == [
        "error: gamma: offline, and not in the cache: would fetch gamma==1.0 from the index"
    ]
    assert not (tmp_path / "venv3").exists() or installed(tmp_path / "venv3") == {}

    assert not attempts.exists()  # no process of these runs opened a connection
