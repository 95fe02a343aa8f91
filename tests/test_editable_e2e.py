"""Editable installs (`-e DIR`) end to end: PEP 660 with real backends, freshness by metadata only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e import doit, installed, site_packages, sync
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import backends, lock_file  # noqa: F401  (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("isolated_env", "backends")


def run_python(venv: Path, code: str) -> str:
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def direct_url(venv: Path, name: str) -> dict[str, object]:
    (dist_info,) = site_packages(venv).glob(f"{name}-*.dist-info")
    data: dict[str, object] = json.loads((dist_info / "direct_url.json").read_text())
    return data


def module_file(project: Path, name: str) -> Path:
    return project / name / "__init__.py"


def metadata_json(cache: Path) -> Path:
    (found,) = (cache / "built-wheel-metadata-v0" / "editable").rglob("metadata.json")
    return found


@pytest.mark.parametrize("backend", ["setuptools", "flit", "hatchling"])
def test_editable_install_sees_edits_without_a_sync(
    index, wheelhouse: Path, tmp_path: Path, backend: str
) -> None:
    project = make_sdist_dir(tmp_path / "proj", "edpkg", "0.1", backend=backend)
    lock = lock_file(tmp_path / "lock.txt", index.url, f"-e {project}")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert installed(venv) == {"edpkg": "0.1"}
    assert direct_url(venv, "edpkg")["dir_info"] == {"editable": True}
    assert run_python(venv, "import edpkg; print(edpkg.__file__)") == str(module_file(project, "edpkg"))
    module_file(project, "edpkg").write_text('"""edpkg."""\n__version__ = "0.1"\nEDITED = "yes"\n')
    assert run_python(venv, "import edpkg; print(edpkg.EDITED)") == "yes"  # no sync in between
    again = sync(lock, venv, cache)
    assert again.code == 0, again.err
    assert (
        not any(t.startswith("build_wheel") for t in again.ran) and " ~ " not in again.out
    )  # a module edit needs nothing


def test_editable_rebuilds_when_metadata_changes_only(index, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "dep", "1.0")
    project = make_sdist_dir(tmp_path / "proj", "edpkg", "0.1", backend="setuptools")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"-e {project}", "dep==1.0")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    assert sync(lock, venv, cache).code == 0
    meta = metadata_json(cache)
    built_at = meta.stat().st_mtime_ns
    module_file(project, "edpkg").write_text('"""edpkg."""\n__version__ = "0.1"\nX = 1\n')
    (project / "edpkg" / "extra.py").write_text("Y = 2\n")
    quiet = sync(lock, venv, cache)
    assert quiet.code == 0, quiet.err
    assert meta.stat().st_mtime_ns == built_at  # nothing rebuilt for a module edit
    assert not any(t.startswith("build_wheel") for t in quiet.ran)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = []", 'dependencies = ["dep"]'))
    changed = sync(lock, venv, cache)
    assert changed.code == 0, changed.err
    meta = metadata_json(cache)  # the new revision's bucket (the old one is dropped)
    assert meta.stat().st_mtime_ns != built_at
    data = json.loads(meta.read_text())
    assert [m["requires-dist"] for m in data["data"].values()] == [["dep"]]
    assert run_python(venv, "import importlib.metadata as m; print(m.requires('edpkg'))") == "['dep']"
    assert " ~ edpkg" in changed.out


def test_dropping_e_replaces_the_editable_install(index, wheelhouse: Path, tmp_path: Path) -> None:
    project = make_sdist_dir(tmp_path / "proj", "edpkg", "0.1", backend="hatchling")
    lock = lock_file(tmp_path / "lock.txt", index.url, f"-e {project}")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    assert sync(lock, venv, cache).code == 0
    assert direct_url(venv, "edpkg")["dir_info"] == {"editable": True}
    lock_file(lock, index.url, f"edpkg @ {project.as_uri()}")
    normal = sync(lock, venv, cache)
    assert normal.code == 0, normal.err
    assert " ~ edpkg" in normal.out
    assert direct_url(venv, "edpkg")["dir_info"] == {}
    copied = site_packages(venv) / "edpkg" / "__init__.py"
    assert copied.is_file()
    assert run_python(venv, "import edpkg; print(edpkg.__file__)") == str(copied)
    lock_file(lock, index.url, f"-e {project}")  # and back
    assert sync(lock, venv, cache).code == 0
    assert not copied.exists() and direct_url(venv, "edpkg")["dir_info"] == {"editable": True}


NO_EDITABLE_BACKEND = """
from flit_core.buildapi import build_sdist, build_wheel, get_requires_for_build_wheel  # noqa: F401
from flit_core.buildapi import prepare_metadata_for_build_wheel  # noqa: F401
"""


def test_a_backend_without_build_editable_is_one_error(index, wheelhouse: Path, tmp_path: Path) -> None:
    project = make_sdist_dir(tmp_path / "proj", "oldpkg", "0.1", backend="flit")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('"flit_core.buildapi"', '"oldbackend"\nbackend-path = ["_backend"]')
    pyproject.write_text(text)
    (project / "_backend").mkdir()
    (project / "_backend" / "oldbackend.py").write_text(NO_EDITABLE_BACKEND)
    lock = lock_file(tmp_path / "lock.txt", index.url, f"-e {project}")
    run = sync(lock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 1
    assert run.errors == [
        "error: oldpkg: its build backend oldbackend has no build_editable hook (PEP 660), so it cannot be "
        "installed editable; drop -e or use a backend that supports editable installs"
    ], run.err
    normal = lock_file(tmp_path / "lock2.txt", index.url, f"oldpkg @ {project.as_uri()}")
    assert sync(normal, tmp_path / "venv", tmp_path / "cache").code == 0  # without -e it builds


def test_lock_keeps_e_and_its_lock_syncs_editable(index, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "dep", "1.0")
    project = make_sdist_dir(tmp_path / "proj", "edpkg", "0.1", backend="flit", requires_dist=["dep"])
    loose = lock_file(tmp_path / "req.in", index.url, f"-e {project}")
    out, cache = tmp_path / "req.txt", tmp_path / "cache"
    locked = doit("lock", f"req={loose}", f"out={out}", f"cache={cache}")
    assert locked.code == 0, locked.err
    assert f"-e {project.as_uri()}" in out.read_text().splitlines()
    assert sync(out, tmp_path / "venv", cache).code == 0
    assert installed(tmp_path / "venv") == {"edpkg": "0.1", "dep": "1.0"}
    assert direct_url(tmp_path / "venv", "edpkg")["dir_info"] == {"editable": True}
