"""A cache that is verified and heals, installs that survive SIGKILL, removal that stays inside the venv.

Real wheels on the loopback index, real environments, a real SIGKILL: each test damages something
the way a disk, a user or a killed process would, and checks that the next sync ends correct.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from tests.e2e import DOIT, ROOT, doit, installed, site_packages, sync
from tests.support.wheels import make_sdist, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")
TEST_WHEELS = ROOT / ".wheelwright" / "test-wheels"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def write_lock(path: Path, index_url: str, *lines: str) -> Path:
    path.write_text("\n".join([f"--index-url {index_url}", *lines]) + "\n")
    return path


def entries(cache: Path) -> list[Path]:
    """The unpacked wheels in the cache (evicted or temporary ones left out)."""
    root = cache / "archive-v0"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


def record_row(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def rewrite_record(wheel: Path, member: str, row: str) -> None:
    """Replace `member`'s RECORD row in `wheel` (the archive stays a valid zip)."""
    with zipfile.ZipFile(wheel) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    record = next(name for name in members if name.endswith(".dist-info/RECORD"))
    lines = members[record].decode().splitlines()
    members[record] = (
        "\n".join(row if line.split(",")[0] == member else line for line in lines) + "\n"
    ).encode()
    write_zip(wheel, members)


def write_zip(target: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    target.write_bytes(buffer.getvalue())


def run_python(venv: Path, code: str) -> str:
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- verified when it enters the cache -------------------------------------------------------


@pytest.mark.parametrize("wrong", ["hash", "size"])
def test_wheel_not_matching_its_record_is_neither_cached_nor_installed(
    index, wheelhouse: Path, tmp_path: Path, cache: Path, wrong: str
) -> None:
    body = b"V = 'real'\n"
    wheel = make_wheel(
        wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": body, "alpha/util.py": "X = 1\n"}
    )
    claimed = b"V = 'what RECORD claims'\n" if wrong == "hash" else body
    size = len(body) + 5 if wrong == "size" else len(claimed)
    digest = record_row("alpha/__init__.py", claimed).split(",")[1]
    rewrite_record(wheel, "alpha/__init__.py", f"alpha/__init__.py,{digest},{size}")
    venv = tmp_path / "venv"
    run = sync(write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0"), venv, cache)
    assert run.code == 1
    assert len(run.errors) == 1, run.err
    assert "alpha" in run.errors[0] and "alpha/__init__.py" in run.errors[0] and "RECORD" in run.errors[0]
    assert "Traceback" not in run.err
    assert entries(cache) == []
    assert not (venv / "lib").exists() or "alpha" not in installed(venv)


# --- damaged after it entered the cache: evicted, fetched again, installed in the same run ---


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_cache_entry_is_evicted_and_fetched_again(
    index, wheelhouse: Path, tmp_path: Path, cache: Path, damage: str
) -> None:
    make_wheel(
        wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": "V = 'good'\n", "alpha/util.py": "X = 1\n"}
    )
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    (entry,) = entries(cache)
    member = entry / "alpha" / "__init__.py"
    if damage == "truncate":
        os.truncate(member, 0)  # what an in-place edit of a hard-linked venv file does to the cache
    else:
        member.unlink()
    index.clear_log()
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "alpha/__init__.py" in warnings[0], run.err
    assert any(r.path.endswith(".whl") for r in index.requests)  # fetched again
    assert run_python(tmp_path / "two", "import alpha; print(alpha.V)") == "good\n"
    assert (entry / "alpha" / "__init__.py").read_text() == "V = 'good'\n"  # the entry is whole again
    again = sync(lock, tmp_path / "three", cache)
    assert again.code == 0 and "warning:" not in again.err


def test_unreadable_marker_is_unpacked_again(index, wheelhouse: Path, tmp_path: Path, cache: Path) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    (entry,) = entries(cache)
    (entry / ".wheelwright-wheel.json").write_text("{not json")
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0, run.err
    assert "warning:" in run.err and "Traceback" not in run.err
    assert installed(tmp_path / "two") == {"alpha": "1.0"}


def test_in_place_edit_through_a_hard_link_does_not_reach_the_next_environment(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    """An edit of an installed file (same inode, same size) changes the cache; the next sync sees it."""
    make_wheel(wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": "V = 'good'\n"})
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    installed_file = site_packages(tmp_path / "one") / "alpha" / "__init__.py"
    with open(installed_file, "r+b") as f:  # in place: the cache entry's inode
        f.write(b"V = 'evil'\n")
    (entry,) = entries(cache)
    assert (entry / "alpha" / "__init__.py").read_text() == "V = 'evil'\n"  # the edit reached the cache
    index.clear_log()
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0, run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "alpha/__init__.py" in warnings[0], run.err
    assert any(r.path.endswith(".whl") for r in index.requests)  # evicted and fetched again
    assert run_python(tmp_path / "two", "import alpha; print(alpha.V)") == "good\n"


def test_a_touched_but_unchanged_cache_file_is_hashed_once_and_kept(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": "V = 'good'\n"})
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    (entry,) = entries(cache)
    os.utime(entry / "alpha" / "__init__.py", (1_000_000_000, 1_000_000_000))
    index.clear_log()
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0 and "warning:" not in run.err, run.err
    assert not any(r.path.endswith(".whl") for r in index.requests)
    assert entries(cache) == [entry] and os.path.samefile(
        entry / "alpha" / "__init__.py", site_packages(tmp_path / "two") / "alpha" / "__init__.py"
    )
    marker = (entry / ".wheelwright-wheel.json").read_text()
    assert '"alpha/__init__.py": [' in marker and "1000000000000000000" in marker  # the new stamp, kept


# --- the built-wheel cache -----------------------------------------------------------------


@pytest.fixture
def backends(wheelhouse: Path) -> Path:
    wheels = sorted(TEST_WHEELS.glob("*.whl"))
    if not wheels:
        pytest.fail("no build backends in .wheelwright/test-wheels: run `./doit test_wheels`")
    for wheel in wheels:
        (wheelhouse / wheel.name).write_bytes(wheel.read_bytes())
    return wheelhouse


def test_truncated_built_wheel_is_rebuilt_in_the_same_run(
    index, backends: Path, tmp_path: Path, cache: Path
) -> None:
    make_sdist(backends, "sdonly", "1.0", backend="flit")
    lock = write_lock(tmp_path / "lock.txt", index.url, "sdonly==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    (built,) = (cache / "built-wheels-v0").rglob("*.whl")
    built.write_bytes(built.read_bytes()[:100])  # truncated
    for entry in entries(cache):
        shutil.rmtree(entry)  # so the built wheel must be read again
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err and run.errors == []
    assert any(line.startswith("warning:") and built.name in line for line in run.err.splitlines()), run.err
    assert zipfile.is_zipfile(built)
    assert installed(tmp_path / "two") == {"sdonly": "1.0"}


@pytest.mark.parametrize("content", ["null", '{"data": [1, 2]}', "\x00garbage"])
def test_damaged_metadata_json_is_rebuilt(
    index, backends: Path, tmp_path: Path, cache: Path, content: str
) -> None:
    make_sdist(backends, "sdonly", "1.0", backend="flit")
    lock = write_lock(tmp_path / "lock.txt", index.url, "sdonly==1.0")
    assert sync(lock, tmp_path / "one", cache).code == 0
    (meta,) = (cache / "built-wheel-metadata-v0").rglob("metadata.json")
    meta.write_text(content)
    for state in cache.rglob("doit-state*"):
        state.unlink()  # every task runs again and reads metadata.json
    run = sync(lock, tmp_path / "two", cache)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert any(line.startswith("warning:") and "metadata.json" in line for line in run.err.splitlines())
    assert isinstance(__import__("json").loads(meta.read_text()).get("data"), dict)
    assert installed(tmp_path / "two") == {"sdonly": "1.0"}


def test_damaged_task_state_is_removed_and_the_sync_checks_again(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    """The state is written without waiting for the disk: a file a machine crash damaged stops no run."""
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    venv = tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    (cache / "doit-state.sqlite3").write_bytes(b"\x00not a database" * 200)
    index.clear_log()
    run = sync(lock, venv, cache)
    assert run.code == 0 and "Traceback" not in run.err, run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "task state" in warnings[0], run.err
    assert not any(r.path.endswith(".whl") for r in index.requests)  # the cache still serves every task
    assert sync(lock, venv, cache).err.count("warning:") == 0  # a sound state again


# --- crash-safe install ----------------------------------------------------------------------


def dist_info_first_wheel(dest: Path, modules: int, licenses: int) -> Path:
    """`big-1.0`: RECORD (and the zip) list the .dist-info first, METADATA before many licence files."""
    dist_info = "big-1.0.dist-info"
    members: dict[str, bytes] = {
        f"{dist_info}/METADATA": b"Metadata-Version: 2.1\nName: big\nVersion: 1.0\n\n",
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    members.update({f"{dist_info}/licenses/L{i:05}.txt": f"licence {i}\n".encode() for i in range(licenses)})
    members["big/__init__.py"] = f"N = {modules}\n".encode()
    members.update({f"big/m{i:05}.py": f"I = {i}\n".encode() for i in range(modules)})
    rows = [record_row(path, data) for path, data in members.items()]
    members = {
        f"{dist_info}/RECORD": ("\n".join([f"{dist_info}/RECORD,,", *rows]) + "\n").encode(),
        **members,
    }
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "big-1.0-py3-none-any.whl"
    write_zip(target, members)
    return target


def kill_when(paths: list[Path], words: list[str]) -> bool:
    """Run `./doit WORDS`, SIGKILL its process group once any of `paths` exists; True if killed first."""
    env = dict(os.environ, WHEELWRIGHT_CWD=str(ROOT))
    process = subprocess.Popen(
        [*DOIT, *words],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while process.poll() is None:
            if any(p.exists() for p in paths):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.0005)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


IMPORT_ALL = (
    "import importlib, big; [importlib.import_module(f'big.m{i:05}') for i in range(big.N)]; print('ok')"
)


def test_sigkill_during_install_is_repaired_by_the_next_sync(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    dist_info_first_wheel(wheelhouse, modules=3000, licenses=3000)
    lock = write_lock(tmp_path / "lock.txt", index.url, "big==1.0")
    assert sync(lock, tmp_path / "warm", cache).code == 0  # fetched and unpacked: the kill hits the install
    layout = site_packages(tmp_path / "warm").relative_to(tmp_path / "warm")
    for attempt in range(8):
        venv = tmp_path / f"venv{attempt}"
        site = venv / layout
        words = ["sync", f"req={lock}", f"venv={venv}", f"cache={cache}", "link=copy"]
        signs = [site / "big-1.0.dist-info" / "METADATA", site / "big" / "m00100.py"]
        if kill_when(signs, words) and not (site / "big-1.0.dist-info" / "RECORD").exists():
            break
    else:
        pytest.fail("no sync was killed part way through its install in 8 attempts")
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert "Audited" not in run.out  # the half-installed distribution is not "unchanged"
    assert (site_packages(venv) / "big-1.0.dist-info" / "RECORD").is_file()
    assert run_python(venv, IMPORT_ALL) == "ok\n"
    assert "Audited" in sync(lock, venv, cache).out


def test_dist_info_without_record_is_reinstalled_to_the_exact_set(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    """The state a kill after METADATA leaves on any installer: the quick check must not call it synced."""
    make_wheel(
        wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": "", "alpha/a.py": "", "alpha/b.py": ""}
    )
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    venv = tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    site = site_packages(venv)
    (site / "alpha-1.0.dist-info" / "RECORD").unlink()
    (site / "alpha" / "b.py").unlink()
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert " ~ alpha==1.0 -> 1.0" in run.out
    assert sorted(p.name for p in (site / "alpha").iterdir() if p.suffix == ".py") == [
        "__init__.py",
        "a.py",
        "b.py",
    ]
    assert (site / "alpha-1.0.dist-info" / "RECORD").is_file()
    assert sync(lock, venv, cache).out.startswith("Audited 1 package in ")


# --- removal stays inside the environment ----------------------------------------------------


def test_removal_does_not_follow_a_symlink_out_of_the_environment(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    make_wheel(wheelhouse, "gamma", "1.0")
    lock = write_lock(tmp_path / "lock.txt", index.url, "gamma==1.0")
    venv = tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    outside = tmp_path / "outside"
    (outside / "__pycache__").mkdir(parents=True)  # empty: what a prune would remove
    (outside / "sub").mkdir()
    (outside / "mod.py").write_text("precious\n")
    (outside / "sub" / "deep.py").write_text("precious\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("keep\n")
    site = site_packages(venv)
    (site / "evil").symlink_to(outside, target_is_directory=True)
    (site / "door").symlink_to(other, target_is_directory=True)
    rogue = site / "rogue-1.0.dist-info"
    rogue.mkdir()
    (rogue / "METADATA").write_text("Metadata-Version: 2.1\nName: rogue\nVersion: 1.0\n\n")
    rows = [
        "evil/mod.py",
        "evil/sub/deep.py",
        "evil/__pycache__/x.pyc",
        "door",
        "rogue-1.0.dist-info/METADATA",
    ]
    (rogue / "RECORD").write_text("".join(f"{row},,\n" for row in rows))
    run = sync(lock, venv, cache)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err and run.errors == []
    assert " - rogue==1.0" in run.out
    assert (outside / "mod.py").read_text() == "precious\n"
    assert (outside / "sub" / "deep.py").read_text() == "precious\n"
    assert (outside / "__pycache__").is_dir()
    assert (other / "keep.txt").read_text() == "keep\n"
    assert not (site / "door").exists() and not (site / "door").is_symlink()  # the symlink itself, inside
    assert not rogue.exists()
    assert installed(venv) == {"gamma": "1.0"}


# --- link modes ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["copy", "symlink", "hardlink"])
def test_link_modes_install_working_environments(
    index, wheelhouse: Path, tmp_path: Path, cache: Path, mode: str
) -> None:
    make_wheel(
        wheelhouse,
        "alpha",
        "1.0",
        files={"alpha/__init__.py": "def main():\n    print('hi')\n"},
        console_scripts={"alpha-cli": "alpha:main"},
    )
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    venv = tmp_path / "venv"
    run = sync(lock, venv, cache, f"link={mode}")
    assert run.code == 0, run.err
    (entry,) = entries(cache)
    module = site_packages(venv) / "alpha" / "__init__.py"
    cached = entry / "alpha" / "__init__.py"
    assert module.is_symlink() == (mode == "symlink")
    assert os.path.samefile(module, cached) == (mode != "copy")
    if mode == "copy":
        assert module.stat().st_nlink == 1
    assert subprocess.run([str(venv / "bin" / "alpha-cli")], capture_output=True, text=True).stdout == "hi\n"
    assert installed(venv) == {"alpha": "1.0"}


def test_unknown_link_mode_is_one_error_line(index, wheelhouse: Path, tmp_path: Path, cache: Path) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    run = sync(
        write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0"), tmp_path / "venv", cache, "link=move"
    )
    assert run.code == 1
    assert run.errors and "link=move" in run.errors[0] and "Traceback" not in run.err


def test_reinstalling_over_a_hard_link_never_writes_into_the_cache(
    index, wheelhouse: Path, tmp_path: Path, cache: Path
) -> None:
    """Replacing a hard-linked file (here: a copy-mode sync after a hardlink one) unlinks it first."""
    make_wheel(wheelhouse, "alpha", "1.0", files={"alpha/__init__.py": "V = 1\n"})
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0")
    venv = tmp_path / "venv"
    assert sync(lock, venv, cache).code == 0
    (entry,) = entries(cache)
    site = site_packages(venv)
    installed_file, cached_file = site / "alpha" / "__init__.py", entry / "alpha" / "__init__.py"
    assert installed_file.stat().st_nlink >= 2 and installed_file.samefile(cached_file)  # the default links
    (site / "alpha-1.0.dist-info" / "RECORD").unlink()  # force a reinstall over the linked files
    assert doit("sync", f"req={lock}", f"venv={venv}", f"cache={cache}", "link=copy").code == 0
    assert (entry / "alpha" / "__init__.py").stat().st_nlink == 1
    assert (entry / "alpha" / "__init__.py").read_text() == "V = 1\n"
