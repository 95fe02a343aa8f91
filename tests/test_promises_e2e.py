"""README promises held end to end on loopback: index precedence, the metadata fallback, the resolver's
conflict chain and pre-release policy, and `./doit -q`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e import DOIT, ROOT, installed, sync
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import backends
from tests.test_lock_e2e import lock, pins

__all__ = ["backends"]  # the fixture, used by name


def test_the_first_index_that_has_a_project_wins(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    """No dependency confusion: a newer `internal` on the extra index is never looked at."""
    extra_files = tmp_path / "extra-files"
    extra_files.mkdir()
    make_wheel(wheelhouse, "internal", "1.0", files={"internal/__init__.py": "WHERE = 'first'\n"})
    for version in ("1.0", "9.0"):  # the same version too, with other content
        make_wheel(extra_files, "internal", version, files={"internal/__init__.py": "WHERE = 'extra'\n"})
    make_wheel(extra_files, "public", "2.0")  # only the extra index has it: taken from there
    with IndexServer(extra_files) as extra:
        req = tmp_path / "requirements.in"
        req.write_text(f"--index-url {index.url}\n--extra-index-url {extra.url}\ninternal\npublic\n")
        out, cache, venv = tmp_path / "requirements.txt", tmp_path / "cache", tmp_path / "venv"
        run = lock(req, out, cache)
        assert run.code == 0, run.err
        assert pins(out) == {"internal": "1.0", "public": "2.0"}
        assert not any(r.path.startswith("/simple/internal") for r in extra.requests)
        unhashed = tmp_path / "unhashed.txt"  # a pin without hashes: only the index order decides
        unhashed.write_text(f"--index-url {index.url}\n--extra-index-url {extra.url}\ninternal==1.0\n")
        for lock_file in (out, unhashed):
            assert sync(lock_file, venv, cache).code == 0
            where = subprocess.run(
                [str(venv / "bin" / "python"), "-c", "import internal; print(internal.WHERE)"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert where.stdout.strip() == "first"
        assert not any(r.path.startswith("/files/internal") for r in extra.requests)


def test_metadata_from_a_full_download_when_the_index_has_neither_pep658_nor_ranges(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    index.metadata_files = False
    index.ranges = False
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "1.0")
    req, out = tmp_path / "requirements.in", tmp_path / "requirements.txt"
    req.write_text(f"-i {index.url}\napp\n")
    run = lock(req, out, tmp_path / "cache")
    assert run.code == 0, run.err
    assert pins(out) == {"app": "1.0", "lib": "1.0"}  # lib came from app's metadata
    whole = [r for r in index.requests if r.path == "/files/app-1.0-py3-none-any.whl"]
    assert [r.status for r in whole] == [200]  # asked for a range, got the whole wheel, read it


def test_a_conflict_names_every_level_of_both_chains(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["left", "mid"])
    make_wheel(wheelhouse, "mid", "1.0", requires_dist=["right"])
    make_wheel(wheelhouse, "left", "1.0", requires_dist=["core<2"])
    make_wheel(wheelhouse, "right", "1.0", requires_dist=["core>=2"])
    for version in ("1.0", "2.0"):
        make_wheel(wheelhouse, "core", version)
    req, out = tmp_path / "requirements.in", tmp_path / "requirements.txt"
    req.write_text(f"-i {index.url}\napp\n")
    run = lock(req, out, tmp_path / "cache")
    assert run.code == 1 and not out.exists(), run.err
    assert len(run.errors) == 1 and "Traceback" not in run.err, run.err
    message = run.errors[0]
    assert "no version of core satisfies all of:" in message, message
    assert "core<2 (required by left==1.0 ← app==1.0 ← the input)" in message, message
    assert "core>=2 (required by right==1.0 ← mid==1.0 ← app==1.0 ← the input)" in message, message


def test_pre_releases_only_when_named_or_nothing_else_matches(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    for version in ("1.0", "2.0b1"):
        make_wheel(wheelhouse, "steady", version)
    make_wheel(wheelhouse, "early", "0.1rc1")  # no final release at all
    for version in ("1.0", "3.0a2"):
        make_wheel(wheelhouse, "asked", version)
    req, out = tmp_path / "requirements.in", tmp_path / "requirements.txt"
    req.write_text(f"-i {index.url}\nsteady\nearly\nasked>=3.0a1\n")
    run = lock(req, out, tmp_path / "cache")
    assert run.code == 0, run.err
    assert pins(out) == {"steady": "1.0", "early": "0.1rc1", "asked": "3.0a2"}


def test_dash_q_through_the_doit_script_prints_errors_only(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    """`./doit -q` (the script turns it into quiet=1): nothing on success, the one error line on failure."""
    make_wheel(wheelhouse, "pkga", "1.0")
    lock_file, venv, cache = tmp_path / "lock.txt", tmp_path / "venv", tmp_path / "cache"
    lock_file.write_text(f"--index-url {index.url}\npkga==1.0\n")
    env = dict(os.environ, WHEELWRIGHT_HOME=str(ROOT / ".wheelwright"))  # the script's own environment

    def script(*words: str) -> subprocess.CompletedProcess[str]:
        command = [str(ROOT / "doit"), *words, f"req={lock_file}", f"venv={venv}", f"cache={cache}"]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)

    quiet = script("-q", "sync")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert installed(venv) == {"pkga": "1.0"}
    lock_file.write_text(f"--index-url {index.url}\nnosuch==1.0\n")
    failed = script("--quiet", "sync")
    assert failed.returncode == 1 and failed.stdout == "", failed
    assert [line for line in failed.stderr.splitlines() if line] == [
        line for line in failed.stderr.splitlines() if line.startswith("error: ")
    ] and "nosuch" in failed.stderr


def test_the_live_view_on_a_terminal_draws_the_build_and_erases_it(
    index: IndexServer, backends: Path, tmp_path: Path
) -> None:
    """Under a pty (stdout and stderr a terminal): the running build is drawn, then erased; the
    summary lines stay."""
    import pty
    import select

    project = make_sdist_dir(tmp_path / "proj", "proj", "1.0", backend="flit")
    lock_file = tmp_path / "lock.txt"
    lock_file.write_text(f"--index-url {index.url}\nproj @ {project.as_uri()}\n")
    words = ["sync", f"req={lock_file}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    env = dict(os.environ, WHEELWRIGHT_CWD=str(ROOT), TERM="xterm", COLUMNS="200")
    main, child = pty.openpty()
    process = subprocess.Popen([*DOIT, *words], cwd=ROOT, env=env, stdin=child, stdout=child, stderr=child)
    os.close(child)
    screen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 180)
        try:
            chunk = os.read(main, 65536) if ready else b""
        except OSError:  # EIO: the child side closed
            chunk = b""
        if not chunk:
            break
        screen += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0, screen.decode(errors="replace")
    text = screen.decode(errors="replace")
    assert "  building proj from " in text, text  # drawn while the build ran
    last = text.rpartition("F\x1b[J")[2]  # what is on screen after the last erase
    assert "building" not in last and "installing" not in last, text
    assert "Prepared 1 package in " in last and last.endswith(" + proj==1.0\r\n"), text
