"""`./doit sync` end to end: a real loopback index, real wheels, real virtual environments."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from tests.e2e import doit, installed, site_packages, sync, tree_snapshot
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return tmp_path / "venv"


@pytest.fixture
def lock(tmp_path: Path, index: object) -> Path:
    return tmp_path / "requirements.txt"


def write_lock(lock: Path, index_url: str, *lines: str) -> Path:
    lock.write_text("\n".join([f"--index-url {index_url}", *lines]) + "\n")
    return lock


def other_python() -> str:
    """A second interpreter, 3.12: on PATH, or pyenv's (found from the account's home, not $HOME)."""
    import os
    import pwd
    import shutil

    roots = [os.environ.get("PYENV_ROOT"), Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv"]
    found = sorted(p for root in roots if root for p in Path(root).glob("versions/3.12*/bin/python3.12"))
    on_path = shutil.which("python3.12")
    if not found and on_path is None:
        pytest.skip("no Python 3.12 here (pyenv has one on the project's machines)")
    return str(found[-1]) if found else str(on_path)


def publish_demo(wheelhouse: Path) -> None:
    make_wheel(
        wheelhouse,
        "alpha",
        "1.0",
        files={"alpha/__init__.py": "V = '1.0'\n", "alpha/old.py": ""},
        console_scripts={"alpha-cli": "alpha:main"},
    )
    make_wheel(
        wheelhouse,
        "alpha",
        "2.0",
        files={"alpha/__init__.py": "V = '2.0'\ndef main():\n    print('hi 2')\n"},
        console_scripts={"alpha-cli": "alpha:main"},
    )
    make_wheel(wheelhouse, "beta", "1.0", requires_dist=["gamma; extra == 'x'"], provides_extra=["x"])
    make_wheel(wheelhouse, "gamma", "1.0")


def test_install_upgrade_downgrade_and_removal(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "alpha==1.0", "beta[x]==1.0", "gamma==1.0")
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}
    site = site_packages(venv)
    assert (site / "alpha" / "old.py").exists()
    assert (site / "alpha-1.0.dist-info" / "INSTALLER").read_text() == "wheelwright\n"
    assert "Installed 3 packages in " in first.out

    write_lock(lock, index.url, "alpha==2.0", "beta==1.0")  # upgrade, and drop the extra's dependency
    second = sync(lock, venv, cache)
    assert second.code == 0, second.err
    assert installed(venv) == {"alpha": "2.0", "beta": "1.0"}
    assert not (site / "alpha" / "old.py").exists()
    assert not (site / "gamma").exists()
    out = subprocess.run([str(venv / "bin" / "alpha-cli")], capture_output=True, text=True, check=True).stdout
    assert out == "hi 2\n"

    write_lock(lock, index.url, "alpha==1.0", "beta==1.0")  # downgrade
    assert sync(lock, venv, cache).code == 0
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}
    assert (site / "alpha" / "old.py").exists()


def test_second_sync_makes_no_request_and_writes_nothing(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "alpha==1.0", "gamma==1.0")
    assert sync(lock, venv, cache).code == 0
    index.clear_log()
    cache_before, env_before = tree_snapshot(cache), tree_snapshot(venv)
    again = sync(lock, venv, cache)
    assert again.code == 0, again.err
    assert index.requests == []
    assert tree_snapshot(cache) == cache_before
    assert tree_snapshot(venv) == env_before
    assert again.out.startswith("Audited 2 packages in ") and again.out.count("\n") == 1


def test_new_environment_from_warm_cache_needs_no_network(
    index, wheelhouse: Path, lock: Path, tmp_path: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "alpha==2.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    index.clear_log()
    assert sync(lock, tmp_path / "two", cache).code == 0
    assert index.requests == []
    assert installed(tmp_path / "two") == {"alpha": "2.0"}


def test_hash_mismatch_prints_expected_and_got_and_changes_nothing(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0")
    assert sync(lock, venv, cache).code == 0
    env_before = tree_snapshot(venv)
    write_lock(lock, index.url, "gamma==1.0", "alpha==1.0 --hash=sha256:" + "0" * 64)
    run = sync(lock, venv, cache)
    assert run.code == 1
    assert len(run.errors) == 1, run.err
    assert (
        "alpha" in run.errors[0]
        and "expected sha256 " + "0" * 64 in run.errors[0]
        and "got " in run.errors[0]
    )
    assert "Traceback" not in run.err
    assert tree_snapshot(venv) == env_before
    assert len(list((cache / "archive-v0").iterdir())) == 1  # only gamma's wheel
    assert not any((cache / "downloads-v0").rglob("*.whl"))


def test_retries_server_errors_then_succeeds(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0")
    index.fail("/simple/gamma", status=503, times=2)
    index.fail("/files/gamma", status=502, times=2)
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {"gamma": "1.0"}
    statuses = [r.status for r in index.requests if r.path.startswith("/files/gamma")]
    assert statuses[:2] == [502, 502] and statuses[-1] == 200


def test_truncated_download_is_retried(index, wheelhouse: Path, lock: Path, venv: Path, cache: Path) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0")
    index.truncate("/files/gamma", times=1)
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {"gamma": "1.0"}


def test_two_concurrent_syncs_share_one_cache(
    index, wheelhouse: Path, lock: Path, tmp_path: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "alpha==2.0", "beta==1.0", "gamma==1.0")
    results: dict[str, object] = {}

    def run(name: str) -> None:
        results[name] = sync(lock, tmp_path / name, cache)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in ("left", "right"):
        result = results[name]
        assert result.code == 0, result.err  # type: ignore[attr-defined]
        assert installed(tmp_path / name) == {"alpha": "2.0", "beta": "1.0", "gamma": "1.0"}


@pytest.mark.parametrize(
    "line, words",
    [
        ("nosuchthing==1.0", ["nosuchthing", "not found on the index"]),
        ("gamma==9.9", ["gamma==9.9", "not on the index"]),
        ("delta==1.0", ["delta==1.0", "no wheel", "Python"]),
    ],
)
def test_bad_pins_fail_with_one_line(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path, line: str, words: list[str]
) -> None:
    publish_demo(wheelhouse)
    make_wheel(wheelhouse, "delta", "1.0", tag="cp27-cp27m-win32")
    write_lock(lock, index.url, line)
    run = sync(lock, venv, cache)
    assert run.code == 1
    assert len(run.errors) == 1 and all(w in run.errors[0] for w in words), run.err
    assert "Traceback" not in run.err
    assert not venv.exists()


def test_unreachable_index_is_named(lock: Path, venv: Path, cache: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    write_lock(lock, f"http://127.0.0.1:{port}/simple", "gamma==1.0")
    run = sync(lock, venv, cache)
    assert run.code == 1
    assert len(run.errors) == 1 and f"127.0.0.1:{port}" in run.errors[0] and "cannot reach" in run.errors[0]
    assert "Traceback" not in run.err


def test_loose_line_points_to_lock_with_file_and_line(index, lock: Path, venv: Path, cache: Path) -> None:
    write_lock(lock, index.url, "gamma>=1.0")
    run = sync(lock, venv, cache)
    assert run.code == 1 and f"{lock}:2" in run.err and "doit lock" in run.err
    assert "Traceback" not in run.err


def test_refuses_the_pipelines_own_environment(index, lock: Path, cache: Path) -> None:
    import sys

    write_lock(lock, index.url)
    run = sync(lock, Path(sys.prefix), cache)
    assert run.code == 1 and "pipeline's own environment" in run.err


def test_direct_url_wheel_records_pep610(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    lock.write_text(f"gamma @ {index.files_url}/gamma-1.0-py3-none-any.whl\n")
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    direct = (site_packages(venv) / "gamma-1.0.dist-info" / "direct_url.json").read_text()
    assert f"{index.files_url}/gamma-1.0-py3-none-any.whl" in direct and "sha256=" in direct


def test_markers_are_evaluated_for_the_target(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0 ; python_version < '3'", "beta==1.0 ; sys_platform == 'linux'")
    assert sync(lock, venv, cache).code == 0
    assert installed(venv) == {"beta": "1.0"}


def test_pipeline_yaml_environments(index, wheelhouse: Path, tmp_path: Path, cache: Path) -> None:
    publish_demo(wheelhouse)
    (tmp_path / "web.txt").write_text(f"-i {index.url}\nalpha==1.0\n")
    (tmp_path / "tools.txt").write_text(f"-i {index.url}\ngamma==1.0\n")
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"cache: {cache}\nenvironments:\n"
        "  web:\n    requirements: web.txt\n    path: envs/web\n"
        "  tools:\n    requirements: tools.txt\n    path: envs/tools\n"
    )
    one = doit("sync:tools", f"config={config}")
    assert one.code == 0, one.err
    assert not (tmp_path / "envs" / "web").exists()
    both = doit("sync", f"config={config}")
    assert both.code == 0, both.err
    assert installed(tmp_path / "envs" / "web") == {"alpha": "1.0"}
    assert installed(tmp_path / "envs" / "tools") == {"gamma": "1.0"}


def test_removal_never_touches_files_outside_the_environment(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path, tmp_path: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0")
    assert sync(lock, venv, cache).code == 0
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    rogue = site_packages(venv) / "rogue-1.0.dist-info"
    rogue.mkdir()
    (rogue / "METADATA").write_text("Metadata-Version: 2.1\nName: rogue\nVersion: 1.0\n\n")
    inside = site_packages(venv) / "rogue.py"
    inside.write_text("")
    escape = Path("..") / ".." / ".." / ".." / outside.name
    (rogue / "RECORD").write_text(f"rogue.py,,\n{escape},,\n{outside},,\nrogue-1.0.dist-info/METADATA,,\n")
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert " - rogue==1.0" in run.out
    assert outside.read_text() == "keep me"
    assert not inside.exists() and not rogue.exists()
    assert installed(venv) == {"gamma": "1.0"}


def test_index_pages_within_max_age_are_not_fetched_again(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "alpha==1.0")
    assert sync(lock, venv, cache).code == 0
    index.clear_log()
    write_lock(lock, index.url, "alpha==2.0")  # a new pin needs the page: still fresh (max-age)
    assert sync(lock, venv, cache).code == 0
    assert [r.path for r in index.requests if r.path.startswith("/simple/")] == []
    assert installed(venv) == {"alpha": "2.0"}


def test_stale_index_pages_are_revalidated(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    publish_demo(wheelhouse)
    index.max_age = 0
    write_lock(lock, index.url, "alpha==1.0")
    assert sync(lock, venv, cache).code == 0
    index.clear_log()
    write_lock(lock, index.url, "alpha==2.0")
    assert sync(lock, venv, cache).code == 0
    pages = [r for r in index.requests if r.path.startswith("/simple/alpha")]
    assert [r.status for r in pages] == [304]
    assert any(k.lower() == "if-none-match" for k in pages[0].headers)
    assert installed(venv) == {"alpha": "2.0"}


def test_other_interpreter_gets_its_own_environment(
    index, wheelhouse: Path, lock: Path, venv: Path, cache: Path
) -> None:
    python = other_python()
    publish_demo(wheelhouse)
    write_lock(lock, index.url, "gamma==1.0")
    run = sync(lock, venv, cache, f"python={python}")
    assert run.code == 0, run.err
    assert (venv / "lib" / "python3.12" / "site-packages" / "gamma").is_dir()
