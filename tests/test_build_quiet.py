"""Builds keep quiet: a backend's output goes to a log under the cache, shown on failure or with verbose=1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import installed, sync
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import backends, lock_file  # noqa: F401  (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("isolated_env", "backends")

NOISY_SETUP = """
import sys, warnings
from setuptools import setup
for i in range(300):
    print(f"noisy backend line {i}")
    print(f"noisy backend stderr {i}", file=sys.stderr)
warnings.warn("a noisy user warning", UserWarning, stacklevel=1)
"""


def noisy_project(dest: Path, name: str, *, fail: bool = False) -> Path:
    end = "raise SystemExit('the build broke on purpose')\n" if fail else "setup()\n"
    return make_sdist_dir(dest, name, "1.0", backend="setuptools", files={"setup.py": NOISY_SETUP + end})


def logs(cache: Path) -> list[Path]:
    return sorted((cache / "build-logs-v0").rglob("*.log"))


def test_a_noisy_successful_build_prints_none_of_its_output(index, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "dep", "1.0")
    first, second = noisy_project(tmp_path / "one", "noisyone"), noisy_project(tmp_path / "two", "noisytwo")
    lock = lock_file(
        tmp_path / "lock.txt", index.url, f"noisyone @ {first.as_uri()}", f"noisytwo @ {second.as_uri()}",
        "dep==1.0",
    )  # fmt: skip
    cache = tmp_path / "cache"
    run = sync(lock, tmp_path / "venv", cache)
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"noisyone": "1.0", "noisytwo": "1.0", "dep": "1.0"}
    lines = run.out.splitlines() + run.err.splitlines()
    assert "noisy backend" not in run.out + run.err and "warning" not in run.out + run.err
    # a `Built` line per build, uv's summary (Resolved, Prepared, Installed) and a `+` line per
    # package; the backend printed 600 lines and a warning per hook (four hooks a build), none shown
    assert len(lines) <= 1 + 2 + 3 + 3, lines  # and the run's first line, naming its environment
    wheel_log = next(p for p in logs(cache) if p.name == "wheel.log" and "noisyone" in p.read_text())
    text = wheel_log.read_text()
    assert "noisy backend line 299" in text and "noisy backend stderr 299" in text
    assert "a noisy user warning" in text  # the hook's Python warnings too


def test_a_failing_build_prints_its_tail_and_the_log_path(index, wheelhouse: Path, tmp_path: Path) -> None:
    project = noisy_project(tmp_path / "broken", "broken", fail=True)
    lock = lock_file(tmp_path / "lock.txt", index.url, f"broken @ {project.as_uri()}")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 1
    (error,) = run.errors
    assert error.startswith("error: broken") and "build backend failed in" in error
    assert "the build broke on purpose" in run.err  # the tail
    assert "noisy backend line 0\n" not in run.err  # only the tail, not all of it
    found = re.search(r"full log: (\S+\.log)", run.err)
    assert found, run.err
    log = Path(found.group(1))
    assert log.is_file() and "noisy backend line 0\n" in log.read_text()
    assert len(run.err.splitlines()) <= 25, run.err


def test_verbose_streams_the_backend_output(index, wheelhouse: Path, tmp_path: Path) -> None:
    project = noisy_project(tmp_path / "loud", "loud")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"loud @ {project.as_uri()}")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", "verbose=1")
    assert run.code == 0, run.err
    shown = run.out + run.err
    assert "loud: noisy backend line 299" in shown and "loud: noisy backend stderr 0" in shown
