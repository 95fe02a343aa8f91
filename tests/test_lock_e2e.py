"""`./doit lock` end to end against a loopback index with generated packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import doit, installed, sync, tree_snapshot
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def lock(req: Path, out: Path, cache: Path, *extra: str):  # type: ignore[no-untyped-def]
    return doit("lock", f"req={req}", f"out={out}", f"cache={cache}", *extra)


def pins(out: Path) -> dict[str, str]:
    found = {}
    for line in out.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            found[name] = rest.split()[0]
    return found


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"


def test_newest_versions_hashes_via_and_sync_accepts_the_output(
    index, wheelhouse: Path, files, tmp_path: Path
) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib>=1"])
    make_wheel(wheelhouse, "app", "2.0", requires_dist=["lib>=2", "tool"])
    for version in ("1.0", "2.0", "2.1"):
        make_wheel(wheelhouse, "lib", version)
    make_wheel(wheelhouse, "tool", "0.5", requires_dist=["lib"])
    req.write_text(f"--index-url {index.url}\napp\n")
    run = lock(req, out, cache)
    assert run.code == 0, run.err
    assert pins(out) == {"app": "2.0", "lib": "2.1", "tool": "0.5"}
    text = out.read_text()
    assert f"--index-url {index.url}" in text
    assert "lib==2.1 \\\n    --hash=sha256:" in text
    assert "    # via\n    #   app\n    #   tool" in text
    assert "    # via -r requirements.in" in text
    run = sync(out, tmp_path / "venv", cache)
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"app": "2.0", "lib": "2.1", "tool": "0.5"}


def test_backtracks_to_a_consistent_set(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "a", "2.0", requires_dist=["shared<2"])
    make_wheel(wheelhouse, "a", "1.0", requires_dist=["shared<3"])
    make_wheel(wheelhouse, "b", "1.0", requires_dist=["shared>=2"])
    for version in ("1.0", "2.0"):
        make_wheel(wheelhouse, "shared", version)
    req.write_text(f"-i {index.url}\na\nb\n")
    run = lock(req, out, cache)
    assert run.code == 0, run.err
    assert pins(out) == {"a": "1.0", "b": "1.0", "shared": "2.0"}


def test_extras_markers_requires_python_and_yanked(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(
        wheelhouse,
        "core",
        "1.0",
        provides_extra=["fast"],
        requires_dist=["speedup; extra == 'fast'", "winonly; sys_platform == 'win32'"],
    )
    make_wheel(wheelhouse, "speedup", "1.0")
    make_wheel(wheelhouse, "speedup", "2.0", requires_python=">=3.99")
    make_wheel(wheelhouse, "speedup", "1.5")
    index.yank("speedup-1.5-py3-none-any.whl", "broken")
    make_wheel(wheelhouse, "winonly", "1.0")
    req.write_text(f"-i {index.url}\ncore[fast]\n")
    run = lock(req, out, cache)
    assert run.code == 0, run.err
    assert pins(out) == {"core": "1.0", "speedup": "1.0"}
    req.write_text(f"-i {index.url}\ncore[fast]\nspeedup==1.5\n")  # a yanked version pinned exactly
    assert lock(req, out, cache).code == 0
    assert pins(out)["speedup"] == "1.5"


def test_constraints_and_direct_references(index, wheelhouse: Path, files, tmp_path: Path) -> None:
    req, out, cache = files
    for version in ("1.0", "2.0"):
        make_wheel(wheelhouse, "lib", version)
    local = make_wheel(tmp_path / "local", "mine", "3.0", requires_dist=["lib"])
    (tmp_path / "constraints.txt").write_text("lib<2\n")
    req.write_text(f"-i {index.url}\n-c constraints.txt\nmine @ {local.as_uri()}\n")
    run = lock(req, out, cache)
    assert run.code == 0, run.err
    assert pins(out) == {"lib": "1.0"}
    assert f"mine @ {local.as_uri()}" in out.read_text()


def test_keeps_existing_pins_unless_upgraded(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "other", "1.0")
    req.write_text(f"-i {index.url}\nlib\nother\n")
    assert lock(req, out, cache).code == 0
    make_wheel(wheelhouse, "lib", "2.0")
    make_wheel(wheelhouse, "other", "2.0")
    req.write_text(f"-i {index.url}\nlib\nother\n# touched\n")
    assert lock(req, out, cache).code == 0
    assert pins(out) == {"lib": "1.0", "other": "1.0"}
    assert lock(req, out, cache, "upgrade=lib").code == 0
    assert pins(out) == {"lib": "2.0", "other": "1.0"}
    assert lock(req, out, cache, "upgrade=1").code == 0
    assert pins(out) == {"lib": "2.0", "other": "2.0"}


def test_conflict_is_explained_in_words(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "a", "1.0", requires_dist=["shared<2"])
    make_wheel(wheelhouse, "b", "1.0", requires_dist=["shared>=2"])
    for version in ("1.0", "2.0"):
        make_wheel(wheelhouse, "shared", version)
    req.write_text(f"-i {index.url}\na\nb\n")
    run = lock(req, out, cache)
    assert run.code == 1 and not out.exists()
    assert len(run.errors) == 1 and "Traceback" not in run.err, run.err
    message = run.errors[0]
    assert "shared<2 (required by a==1.0 ← the input)" in message
    assert "shared>=2 (required by b==1.0 ← the input)" in message
    req.write_text(f"-i {index.url}\nnothere\n")
    run = lock(req, out, cache)
    assert run.code == 1 and "nothere is on no configured index" in run.err


def test_rerun_is_a_noop_and_a_cached_relock_reads_only_json(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    index.max_age = 0  # every page use is a revalidation
    req.write_text(f"-i {index.url}\napp\n")
    assert lock(req, out, cache).code == 0
    first = out.read_text()
    index.clear_log()
    again = lock(req, out, cache)
    assert again.code == 0 and index.requests == []  # inputs unchanged: doit does nothing
    metadata_before = tree_snapshot(cache / "wheel-metadata-v0")
    assert lock(req, out, cache, "upgrade=1").code == 0  # a full relock from the cache
    assert out.read_text() == first
    assert {r.path for r in index.requests} == {"/simple/app/", "/simple/lib/"}
    assert {r.status for r in index.requests} == {304}
    assert tree_snapshot(cache / "wheel-metadata-v0") == metadata_before


def test_metadata_cheapest_first(index, wheelhouse: Path, files) -> None:
    req, out, cache = files
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"], files={"app/big.bin": bytes(300_000)})
    make_wheel(wheelhouse, "lib", "1.0")
    req.write_text(f"-i {index.url}\napp\n")
    assert lock(req, out, cache).code == 0
    assert index.count("/files/app-1.0-py3-none-any.whl.metadata") == 1
    assert index.count("/files/app-1.0-py3-none-any.whl") == 1  # only the .metadata file
    index.metadata_files = False  # no PEP 658: HTTP ranges of the wheel
    make_wheel(wheelhouse, "app", "2.0", requires_dist=["lib"], files={"app/big.bin": bytes(300_000)})
    index.clear_log()
    assert lock(req, out, cache, "upgrade=1").code == 0
    ranged = [r for r in index.requests if r.path == "/files/app-2.0-py3-none-any.whl"]
    assert ranged and all(r.status == 206 for r in ranged)
    assert pins(out)["app"] == "2.0"


def test_pipeline_yaml_lock_then_sync(index, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    (tmp_path / "web.in").write_text("app\n")
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"cache: {tmp_path / 'cache'}\nindex-url: {index.url}\nenvironments:\n"
        "  web:\n    in: web.in\n    requirements: web.txt\n    path: envs/web\n"
    )
    run = doit("lock", f"config={config}")
    assert run.code == 0, run.err
    assert pins(tmp_path / "web.txt") == {"app": "1.0", "lib": "1.0"}
    assert "./doit lock web" in (tmp_path / "web.txt").read_text()
    assert doit("sync", f"config={config}").code == 0
    assert installed(tmp_path / "envs" / "web") == {"app": "1.0", "lib": "1.0"}
