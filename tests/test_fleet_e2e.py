"""A fleet that builds together: the store by URL (file://, memory://, S3 on moto), builds sharded across
a CI matrix, the shared cache pruned, and a wheelhouse for machines without a network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.core.objectstore import Missing, open_store
from tests.e2e import Run, doit, installed
from tests.support.s3 import S3Store, recorded
from tests.test_build_e2e import backends  # noqa: F401 (a fixture)
from tests.test_remote_cache import built, fleet, records, store, taken  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("isolated_env")


def run(tmp_path: Path, name: str, lock: Path, task: str, *extra: str) -> Run:
    """One CI runner's command: its own cache, venv and events file."""
    env = dict(os.environ, WHEELWRIGHT_EVENTS=str(tmp_path / f"{name}.events"))
    words = [f"req={lock}", f"venv={tmp_path / name / 'venv'}", f"cache={tmp_path / name / 'cache'}"]
    return doit(task, *words, *extra, env=env)


def test_the_store_interface_on_memory_and_file(tmp_path: Path) -> None:
    for url in ("memory://interface-test", (tmp_path / "shared").as_uri()):
        s = open_store(url)
        assert s.put_if_absent("built-v0/a/k/entry.json", b"first") is True
        assert s.put_if_absent("built-v0/a/k/entry.json", b"second") is False  # the first writer wins
        assert s.get("built-v0/a/k/entry.json") == b"first"
        wheel = tmp_path / "w.whl"
        wheel.write_bytes(b"x" * 3_000_000)
        s.put("built-v0/a/k/sha/w.whl", wheel)
        assert b"".join(s.stream("built-v0/a/k/sha/w.whl")) == wheel.read_bytes()
        info = s.head("built-v0/a/k/sha/w.whl")
        assert info is not None and info.size == 3_000_000
        assert sorted(i.key for i in s.list("built-v0")) == [
            "built-v0/a/k/entry.json",
            "built-v0/a/k/sha/w.whl",
        ]
        s.delete("built-v0/a/k/entry.json")
        s.delete("built-v0/a/k/entry.json")  # deleting what is gone is fine
        assert s.head("built-v0/a/k/entry.json") is None
        with pytest.raises(Missing):
            s.get("built-v0/a/k/entry.json")


def test_a_shared_directory_serves_a_cold_runner(fleet: Path, tmp_path: Path) -> None:  # noqa: F811
    shared = (tmp_path / "nfs" / "wheels").as_uri()
    os.environ["WW_TEST_BUILD_LOG"] = str(log := tmp_path / "builds.log")
    try:
        a = run(tmp_path, "a", fleet, "sync", f"remote_cache={shared}")
        assert a.code == 0, a.err
        assert len([line for line in recorded(log) if line.startswith("wheel")]) == 3
        log.unlink()
        b = run(tmp_path, "b", fleet, "sync", f"remote_cache={shared}")
        assert b.code == 0, b.err
        assert recorded(log) == [] and built(tmp_path, "b") == set()
        assert taken(tmp_path, "b") == {"sdrec", "gitrec", "pathrec"}
        assert records(tmp_path / "b" / "venv") == records(tmp_path / "a" / "venv")
    finally:
        del os.environ["WW_TEST_BUILD_LOG"]


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_three_shards_then_a_cold_runner_builds_nothing(
    backend: str,
    request: pytest.FixtureRequest,
    fleet: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = request.getfixturevalue("store").url if backend == "s3" else (tmp_path / "shared").as_uri()
    log = tmp_path / "builds.log"
    os.environ["WW_TEST_BUILD_LOG"] = str(log)
    try:
        reference = run(tmp_path, "alone", fleet, "sync")  # one runner, no store: what the fleet must equal
        assert reference.code == 0, reference.err
        log.unlink()
        plan = tmp_path / "plan.json"
        sized = run(tmp_path, "planner", fleet, "sync", "dry=1", f"report={plan}")
        assert sized.code == 0, sized.err
        to_build = {
            row["package"] for row in json.loads(plan.read_text())["plan"] if row["action"] == "build"
        }
        assert {"gitrec", "pathrec"} <= to_build  # the matrix is sized from this list
        shards = {}
        for k in (1, 2, 3):
            shard = run(tmp_path, f"shard{k}", fleet, "build_wheel", f"shard={k}/3", f"remote_cache={url}")
            assert shard.code == 0, shard.err
            shards[k] = built(tmp_path, f"shard{k}")
        wheels = sorted(line for line in recorded(log) if line.startswith("wheel"))
        assert wheels == ["wheel gitrec", "wheel pathrec", "wheel sdrec"]  # each source built exactly once
        assert set().union(*shards.values()) == {"sdrec", "gitrec", "pathrec"}
        assert sum(len(s) for s in shards.values()) == 3  # the shards do not overlap
        log.unlink()
        cold = run(tmp_path, "cold", fleet, "sync", f"remote_cache={url}")
        assert cold.code == 0, cold.err
        assert recorded(log) == [] and built(tmp_path, "cold") == set()  # no build at all
        assert installed(tmp_path / "cold" / "venv") == installed(tmp_path / "alone" / "venv")
    finally:
        del os.environ["WW_TEST_BUILD_LOG"]


def test_a_shard_is_refused_for_sync_and_checked(fleet: Path, tmp_path: Path) -> None:  # noqa: F811
    bad = run(tmp_path, "x", fleet, "build_wheel", "shard=4/3")
    assert bad.code == 3 and "shard='4/3'" in bad.err and "Traceback" not in bad.err, bad.err
    synced = run(tmp_path, "y", fleet, "sync", "shard=1/2")
    assert synced.code == 3 and "shard= is for build_meta, build_wheel" in synced.err, synced.err
    assert not (tmp_path / "y" / "venv").exists()


def _age(root: Path, seconds: float) -> None:
    """Make every object of a file:// store look `seconds` old (the store's own times are file mtimes)."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_prune_remote_on_a_shared_directory(fleet: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "shared"
    url = root.as_uri()
    assert run(tmp_path, "a", fleet, "sync", f"remote_cache={url}").code == 0
    entries = sorted(p.parent for p in root.rglob("entry.json"))
    assert len(entries) == 3
    _age(root, 10 * 86400)
    os.utime(next(entries[0].rglob("*.whl")), None)  # one entry was written just now
    orphan_new = root / "built-v0" / "half" / "k1" / "sha" / "half-1.0-py3-none-any.whl"
    orphan_old = root / "built-v0" / "dead" / "k2" / "sha" / "dead-1.0-py3-none-any.whl"
    for orphan in (orphan_new, orphan_old):
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"an upload whose entry is not published yet")
    old = time.time() - 2 * 86400
    os.utime(orphan_old, (old, old))
    pruned = doit("prune", "remote=1", "days=7", f"remote_cache={url}", f"cache={tmp_path / 'a' / 'cache'}")
    assert pruned.code == 0, pruned.err
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert [p for p in left if p.endswith("entry.json")] == [
        str((entries[0] / "entry.json").relative_to(root))
    ]
    assert str(orphan_new.relative_to(root)) in left  # an upload under way is never removed
    assert not orphan_old.exists()  # a dead upload is, after the grace period
    assert "pruned" in pruned.out and "3 entries removed" in pruned.out, pruned.out
    used = run(tmp_path, "b", fleet, "sync", f"remote_cache={url}")  # a reader records its use
    assert used.code == 0 and taken(tmp_path, "b") == {entries[0].parent.name}, used.err
    assert (entries[0] / "used").is_file()


def test_prune_remote_on_s3(store: S3Store, fleet: Path, tmp_path: Path) -> None:  # noqa: F811
    assert run(tmp_path, "a", fleet, "sync", f"remote_cache={store.url}").code == 0
    assert len([k for k in store.objects() if k.endswith("entry.json")]) == 3
    kept = doit("prune", "remote=1", "days=1", f"remote_cache={store.url}", f"cache={tmp_path / 'c'}")
    assert kept.code == 0 and len([k for k in store.objects() if k.endswith("entry.json")]) == 3, kept.err
    gone = doit("prune", "remote=1", "max-size=1", f"remote_cache={store.url}", f"cache={tmp_path / 'c'}")
    assert gone.code == 0, gone.err
    assert store.objects() == {} and "3 entries removed" in gone.out


def test_wheelhouse_installs_without_a_network(
    index,
    wheelhouse: Path,
    fleet: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.support.wheels import make_wheel

    make_wheel(wheelhouse, "plain", "2.0")
    lock = fleet.read_text() + "plain==2.0\n"
    fleet.write_text(lock)
    house = tmp_path / "house"
    made = run(tmp_path, "a", fleet, "wheelhouse", f"dir={house}")
    assert made.code == 0, made.err
    names = sorted(p.name for p in house.glob("*.whl"))
    assert [n.split("-")[0] for n in names] == ["gitrec", "pathrec", "plain", "sdrec"]
    assert (house / "simple" / "plain" / "index.html").read_text().count(".whl#sha256=") == 1
    index.stop()  # nothing may come from the index now
    want = {"gitrec": "1.0", "pathrec": "1.0", "plain": "2.0", "sdrec": "1.0"}
    for n, how in enumerate(
        (["--no-index", "--find-links", str(house)], ["--index-url", (house / "simple").as_uri()])
    ):
        venv = tmp_path / f"offline{n}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--isolated", *how]
        done = subprocess.run([*pip, "-r", str(house / "requirements.txt")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert {
            k: v for k, v in installed(venv).items() if k in want or k not in ("pip", "setuptools")
        } == want
