"""pyproject.toml as a lock input (dependencies, extras, PEP 735 groups, dynamic lists), pip's
`-e .[dev]` / `.[dev]` / `name[dev] @ .` lines, and locks that travel (relative paths stay relative)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e import doit, installed, sync
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import backends  # noqa: F401  (a fixture, used by name)
from tests.test_lock_e2e import pins

pytestmark = pytest.mark.usefixtures("isolated_env")

PROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "myproj"
version = "0.1"
dependencies = ["app>=1"]

[project.optional-dependencies]
dev = ["devtool"]
docs = ["docgen"]
all = ["myproj[dev,docs]"]

[dependency-groups]
test = ["tester", {include-group = "lint"}]
lint = ["linter"]
loop-a = [{include-group = "loop-b"}]
loop-b = [{include-group = "loop-a"}]
"""


@pytest.fixture
def project(tmp_path: Path, wheelhouse: Path, index, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    for name in ("app", "devtool", "docgen", "tester", "linter"):
        make_wheel(wheelhouse, name, "1.0")
    make_wheel(wheelhouse, "app", "2.0")
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    root = tmp_path / "myproj"
    make_sdist_dir(root, "myproj", "0.1")
    (root / "pyproject.toml").write_text(PROJECT)
    return root


def lock(source: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    cache = source.parent.parent / "cache"  # beside the project, never inside it
    return doit("lock", f"req={source}", f"out={out}", f"cache={cache}", *extra, cwd=out.parent)


def test_dependencies_extras_and_groups_with_include_group(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    run = lock(project / "pyproject.toml", out)
    assert run.code == 0, run.err
    assert pins(out) == {"app": "2.0"}
    assert "-e" not in out.read_text() and "myproj @" not in out.read_text()  # only with self=1
    run = lock(project / "pyproject.toml", out, "extras=all", "groups=test")
    assert run.code == 0, run.err
    assert pins(out) == {"app": "2.0", "devtool": "1.0", "docgen": "1.0", "tester": "1.0", "linter": "1.0"}
    assert "# via -r myproj/pyproject.toml" in out.read_text()
    assert "requirements.txt extras=all groups=test\n" in out.read_text()  # a relock keeps them


def test_unknown_extra_group_and_a_cycle_are_one_line(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    run = lock(project / "pyproject.toml", out, "groups=loop-a")
    assert run.code != 0 and len(run.errors) == 1, run.err
    assert "Cyclic dependency group include" in run.errors[0] and "Traceback" not in run.err
    run = lock(project / "pyproject.toml", out, "extras=nope")
    assert run.errors and "no extra 'nope'" in run.errors[0] and "has: all, dev, docs" in run.errors[0]
    run = lock(project / "pyproject.toml", out, "groups=nope")
    assert run.errors and "no group 'nope'" in run.errors[0]
    assert not out.exists()


@pytest.mark.usefixtures("backends")
def test_a_dynamic_dependency_list_is_read_through_the_build_backend(project: Path, tmp_path: Path) -> None:
    (project / "pyproject.toml").write_text(
        PROJECT.replace('dependencies = ["app>=1"]', 'dynamic = ["dependencies", "optional-dependencies"]')
        .replace('dev = ["devtool"]', "")
        .replace('docs = ["docgen"]', "")
        .replace('all = ["myproj[dev,docs]"]', "")
        .replace("[project.optional-dependencies]", "")
    )
    (project / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(install_requires=['app<2'], extras_require={'dev': ['devtool']})\n"
    )
    out = tmp_path / "requirements.txt"
    run = lock(project / "pyproject.toml", out, "extras=dev")
    assert run.code == 0, run.err
    assert pins(out) == {"app": "1.0", "devtool": "1.0"}


@pytest.mark.usefixtures("backends")
def test_self_1_locks_the_project_as_a_relative_e_dot(project: Path, tmp_path: Path) -> None:
    out = project / "requirements.txt"
    run = lock(project / "pyproject.toml", out, "self=1", "extras=dev")
    assert run.code == 0, run.err
    lines = out.read_text().splitlines()
    assert "-e ." in lines and str(project) not in out.read_text()
    assert pins(out) == {"app": "2.0", "devtool": "1.0"}


@pytest.mark.usefixtures("backends")
@pytest.mark.parametrize("line", ["-e .[dev]", ".[dev]", "myproj[dev] @ ."])
def test_pip_forms_of_a_local_project_with_extras(project: Path, tmp_path: Path, line: str) -> None:
    source = project / "requirements.in"
    source.write_text(line + "\n")
    out = project / "requirements.txt"
    run = lock(source, out)
    assert run.code == 0, run.err
    assert pins(out) == {"app": "2.0", "devtool": "1.0"}
    text = out.read_text()
    assert str(project) not in text  # written relative, as the input had it
    assert ("-e ." if line.startswith("-e") else "myproj @ .") in text.splitlines()


@pytest.mark.usefixtures("backends")
def test_a_lock_with_e_dot_travels_to_a_copied_checkout(project: Path, tmp_path: Path) -> None:
    (project / "requirements.in").write_text("-e .\n")
    out = project / "requirements.txt"
    run = lock(project / "requirements.in", out)
    assert run.code == 0, run.err
    assert "-e ." in out.read_text().splitlines()
    copy = tmp_path / "elsewhere" / "myproj"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("cache", "*.egg-info", "build"))
    (copy / "myproj" / "__init__.py").write_text('WHERE = "copy"\n')
    venv = tmp_path / "venv"
    run = sync(copy / "requirements.txt", venv, tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(venv)["myproj"] == "0.1"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import myproj; print(myproj.__file__, myproj.WHERE)"],
        capture_output=True, text=True, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(copy / "myproj" / "__init__.py"), "copy"]


def test_an_absolute_path_stays_absolute(project: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "local", "localpkg", "1.0")
    source = tmp_path / "requirements.in"
    source.write_text(f"localpkg @ {wheel.as_uri()}\n")
    out = tmp_path / "requirements.txt"
    run = lock(source, out)
    assert run.code == 0, run.err
    assert f"localpkg @ {wheel.as_uri()}" in out.read_text().splitlines()


def test_pipeline_yaml_in_pyproject_with_extras_and_groups(project: Path, tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        "cache: cache\nenvironments:\n  dev:\n    in: myproj/pyproject.toml\n"
        "    requirements: dev.txt\n    path: venv\n    extras: [dev]\n    groups: [lint]\n"
    )
    run = doit("lock", f"config={config}")
    assert run.code == 0, run.err
    assert pins(tmp_path / "dev.txt") == {"app": "2.0", "devtool": "1.0", "linter": "1.0"}


def test_relative_find_links_stay_relative(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    make_wheel(project / "wheels", "vendored", "1.0")
    (project / "requirements.in").write_text("--no-index\n-f ./wheels\nvendored\n")
    out = project / "requirements.txt"
    run = lock(project / "requirements.in", out)
    assert run.code == 0, run.err
    assert "--find-links ./wheels" in out.read_text().splitlines() and str(project) not in out.read_text()
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(project / "wheels")  # the copy's own wheels are the ones used
    run = sync(copy / "requirements.txt", tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"vendored": "1.0"}
