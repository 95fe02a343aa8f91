"""`python=3.12` and its spellings end to end: an interpreter found by version on PATH, under pyenv or uv."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e import doit, installed, sync
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def pyenv_versions() -> list[Path]:
    """Every pyenv `versions` directory this machine has, found without HOME or PYENV_ROOT exported."""
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv")]
    path = os.environ.get("PATH", "").split(os.pathsep)
    roots += [str(Path(p).parent) for p in path if p.endswith("shims")]
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        roots.append(done.stdout.strip())
    return [Path(r) / "versions" for r in dict.fromkeys(roots) if r and (Path(r) / "versions").is_dir()]


def python_312() -> Path:
    """A Python 3.12 the lookup should find; the test is skipped, saying so, when there is none."""
    for versions in pyenv_versions():
        found = sorted(versions.glob("3.12*/bin/python3"))
        if found:
            return found[-1]
    pytest.skip("no Python 3.12 on this machine (looked under every pyenv root: PYENV_ROOT, shims, ~/.pyenv)")


def version_of(venv: Path) -> str:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    return done.stdout.strip()


@pytest.mark.parametrize("spec", ["3.12", "python3.12", "cpython@3.12", "exact"])
def test_python_by_version_makes_the_environment_with_it(
    index, wheelhouse: Path, tmp_path: Path, spec: str
) -> None:
    found = python_312()
    if spec == "exact":  # 3.12.N as that interpreter reports it
        out = subprocess.run(
            [str(found), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        spec = out
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    venv = tmp_path / "venv"
    run = sync(lock, venv, tmp_path / "cache", f"python={spec}")
    assert run.code == 0, run.err
    assert version_of(venv) == "3.12"
    assert installed(venv) == {"alpha": "1.0"}


def test_python_by_version_found_under_pyenv_without_pyenv_root(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    """PYENV_ROOT unset, HOME elsewhere, no pyenv on PATH: the pyenv of the user's own home is found."""
    found = python_312()
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    if not found.is_relative_to(home / ".pyenv"):
        pytest.skip(f"this machine's Python 3.12 ({found}) is not under the user's ~/.pyenv")
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    env = {k: v for k, v in os.environ.items() if k != "PYENV_ROOT"}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if "pyenv" not in p)
    venv = tmp_path / "venv"
    run = doit("sync", f"req={lock}", f"venv={venv}", f"cache={tmp_path / 'cache'}", "python=3.12", env=env)
    assert run.code == 0, run.err
    assert version_of(venv) == "3.12"


@pytest.mark.parametrize("spec", ["3.99", "python3.99", "cpython@3.99.1"])
def test_a_version_that_does_not_exist_is_one_line_naming_the_places(
    index, wheelhouse: Path, tmp_path: Path, spec: str
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", f"python={spec}")
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    (line,) = run.errors
    assert f"python={spec}" in line and "on PATH" in line and "pyenv" in line and "uv" in line, line
    assert not (tmp_path / "venv").exists()


def fake_shim(root: Path, name: str) -> Path:
    """A pyenv shim as pyenv writes its failure: several lines on stderr, exit 127."""
    shims = root / ".pyenv" / "shims"
    shims.mkdir(parents=True)
    shim = shims / name
    shim.write_text(
        "#!/bin/sh\n"
        f"echo 'pyenv: {name}: command not found' >&2\necho >&2\n"
        f"echo \"The \\`{name}' command exists in these Python versions:\" >&2\necho '  3.98.1' >&2\n"
        "exit 127\n"
    )
    shim.chmod(0o755)
    return shim


def test_a_failing_pyenv_shim_is_shown_in_full_on_one_line(index, wheelhouse: Path, tmp_path: Path) -> None:
    shim = fake_shim(tmp_path, "python3.98")
    make_wheel(wheelhouse, "alpha", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    env = dict(os.environ, PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    for spec in ("python3.98", str(shim)):  # found by name, and given as a path
        words = (f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}", f"python={spec}")
        run = doit("sync", *words, env=env)
        assert run.code == 1, run.err
        (line,) = run.errors
        assert "pyenv: python3.98: command not found" in line, line
        assert "these Python versions: 3.98.1" in line, line


def fake_python(home: Path, version: str) -> Path:
    """`<home>/bin/python3`: a script that answers the version question as an interpreter would."""
    exe = home / "bin" / "python3"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"#!/bin/sh\necho cpython {version}\n")
    exe.chmod(0o755)
    return exe


def test_uv_managed_interpreters_are_looked_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.envs.interpreter import find_python

    uv = tmp_path / "uv"
    older = fake_python(uv / "cpython-3.77.1-linux-x86_64-gnu", "3.77.1")
    newer = fake_python(uv / "cpython-3.77.10-linux-x86_64-gnu", "3.77.10")
    fake_python(uv / "cpython-3.78.0-linux-x86_64-gnu", "3.78.0")
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(uv))
    assert find_python("3.77") == newer  # the newest of that version first
    assert find_python("cpython@3.77.1") == older
    assert find_python("python3.78").parent.parent.name == "cpython-3.78.0-linux-x86_64-gnu"
