"""The backend processes a build starts (tasks/source/builder.py, tasks/source/hook_chain.py): get_requires
and the hook after it share one process when nothing more is needed, and only then.

A real in-tree backend (`backend-path`), run by this interpreter; every process the builder starts is counted.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tasks.core.errors import BuildError
from tasks.source import builder as builder_module
from tasks.source.builder import Builder

BACKEND = """
import os, zipfile
REQUIRES = {requires!r}
FAIL = {fail!r}

def get_requires_for_build_wheel(config_settings=None):
    print("asked", os.getpid())
    return REQUIRES

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    print("prepared", os.getpid())
    if FAIL:
        raise RuntimeError("metadata refused")
    info = os.path.join(metadata_directory, "demo-1.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n")
    return "demo-1.0.dist-info"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("built", os.getpid())
    name = "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        whl.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n")
    return name
"""


class Env:
    """A build environment that is this interpreter; records what it is asked to install."""

    python = sys.executable

    def __init__(self) -> None:
        self.installed: list[tuple[str, ...]] = []

    def install(self, requirements: Sequence[str]) -> None:
        self.installed.append(tuple(requirements))


def project(cache: Path, requires: list[str], fail: bool = False) -> Path:
    tree = cache / "sources-v0" / "demo"  # a tree in the cache: its answers are kept for the run
    tree.mkdir(parents=True)
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "demo_backend"\nbackend-path = ["."]\n'
    )
    (tree / "demo_backend.py").write_text(BACKEND.format(requires=requires, fail=fail))
    return tree


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The hooks of every process the builder starts, in order."""
    seen: list[list[str]] = []
    real = subprocess.Popen

    def counting(cmd: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        seen.append([part for part in cmd if "_" in part and "/" not in part])
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(builder_module.subprocess, "Popen", counting)
    monkeypatch.setattr(builder_module, "_asked", {})
    return seen


def test_metadata_then_wheel_start_two_backend_processes(tmp_path: Path, started: list[list[str]]) -> None:
    tree = project(tmp_path / "cache", [])
    build = Builder(tree, Env(), tmp_path / "cache", "demo")
    assert build.metadata()["name"] == "demo"
    assert build.wheel(tmp_path / "out").name == "demo-1.0-py3-none-any.whl"
    assert started == [
        ["get_requires_for_build_wheel", "prepare_metadata_for_build_wheel"],  # one process
        ["build_wheel"],
    ]
    log = (build.log_path("wheel-metadata")).read_text()
    assert log.index("--- get_requires_for_build_wheel") < log.index("--- prepare_metadata_for_build_wheel")
    assert len({line.split()[1] for line in log.splitlines() if line.startswith(("asked", "prepared"))}) == 1


def test_a_wheel_alone_asks_and_builds_in_one_process(tmp_path: Path, started: list[list[str]]) -> None:
    tree = project(tmp_path / "cache", [])
    assert Builder(tree, Env(), tmp_path / "cache", "demo").wheel(tmp_path / "out").is_file()
    assert started == [["get_requires_for_build_wheel", "build_wheel"]]


def test_requirements_to_install_first_keep_the_hooks_apart(tmp_path: Path, started: list[list[str]]) -> None:
    tree = project(tmp_path / "cache", ["extra-backend-helper"])
    env = Env()
    build = Builder(tree, env, tmp_path / "cache", "demo")
    assert build.metadata()["version"] == "1.0"
    assert env.installed == [(), ("extra-backend-helper",)]  # installed before the next hook ran
    assert len(started) == 2 and started[1] == ["prepare_metadata_for_build_wheel"]
    lines = build.log_path("wheel-metadata").read_text().splitlines()
    pids = {line.split()[0]: line.split()[1] for line in lines if line.startswith(("asked", "prepared"))}
    assert pids["asked"] != pids["prepared"]  # prepared once, after the install, in a process of its own


def test_a_failing_chained_hook_fails_on_its_own_and_is_named(
    tmp_path: Path, started: list[list[str]]
) -> None:
    tree = project(tmp_path / "cache", [], fail=True)
    with pytest.raises(BuildError) as failed:
        Builder(tree, Env(), tmp_path / "cache", "demo").metadata()
    assert "failed in prepare_metadata_for_build_wheel" in str(failed.value)
    assert "metadata refused" in str(failed.value)
    assert started[-1] == ["prepare_metadata_for_build_wheel"]
