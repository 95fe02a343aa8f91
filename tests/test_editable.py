"""Editable requirements, the pure parts: parsing `-e`, the lock line, what decides metadata, the plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tasks.core.errors import RequirementsError
from tasks.envs.venv import Installed
from tasks.inputs.requirements import parse_file
from tasks.inputs.sources import PathSource
from tasks.lock.lockfile import requirement_text
from tasks.lock.provider import ResolvedPin
from tasks.plan.planner import Wanted, plan_sync
from tasks.source.editable import editable_revision, metadata_inputs


def project(root: Path, pyproject: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_e_dir_is_an_editable_path_source(tmp_path: Path) -> None:
    project(tmp_path / "app", '[project]\nname = "app"\nversion = "1"\n')
    req = tmp_path / "req.txt"
    req.write_text("-e ./app\n--editable file://" + str(tmp_path / "app") + "\n")
    first, second = parse_file(req).requirements
    assert first.name == second.name == "app"
    assert first.source == second.source == PathSource(tmp_path / "app", editable=True)
    assert first.editable
    assert first.source.identity() != PathSource(tmp_path / "app").identity()  # dropping -e refetches


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("-e git+https://127.0.0.1/r.git#egg=r", "not a git URL"),
        ("-e requests", "-e takes a local project directory"),
        ("-e ./app-1.0.tar.gz", "-e takes a local project directory"),
    ],
)
def test_e_other_than_a_directory_is_one_error(tmp_path: Path, line: str, words: str) -> None:
    req = tmp_path / "req.txt"
    req.write_text(line + "\n")
    (tmp_path / "app-1.0.tar.gz").write_bytes(b"")
    with pytest.raises(RequirementsError, match=words) as caught:
        parse_file(req)
    assert f"{req}:1" in str(caught.value)


def test_the_lock_keeps_e(tmp_path: Path) -> None:
    source = PathSource(tmp_path / "app", editable=True)
    pin = ResolvedPin(canonicalize_name("app"), "1", source)
    assert requirement_text(pin) == f"-e {(tmp_path / 'app').as_uri()}"
    assert requirement_text(ResolvedPin(pin.name, "1", PathSource(tmp_path / "app"))).startswith("app @ ")


def test_direct_url_and_bucket_differ_from_a_normal_build(tmp_path: Path) -> None:
    editable, normal = PathSource(tmp_path, editable=True), PathSource(tmp_path)
    assert editable.direct_url("r")["dir_info"] == {"editable": True}
    assert normal.direct_url("r")["dir_info"] == {}
    assert editable.bucket("r").startswith("editable/") and normal.bucket("r").startswith("path/")


def test_metadata_inputs_follow_what_backends_read(tmp_path: Path) -> None:
    setuptools = project(
        tmp_path / "st",
        '[project]\nname = "st"\nreadme = "README.md"\ndynamic = ["version"]\n'
        '[tool.setuptools.dynamic]\nversion = {attr = "st.__version__"}\n'
        'dependencies = {file = ["reqs.txt"]}\n',
        {"README.md": "hi", "reqs.txt": "", "st/__init__.py": "", "st/core.py": "", "setup.cfg": ""},
    )
    names = {str(p.relative_to(setuptools)) for p in metadata_inputs(setuptools)}
    assert names == {"README.md", "st/__init__.py", "pyproject.toml", "reqs.txt", "setup.cfg"}
    hatch = project(
        tmp_path / "ht",
        '[project]\nname = "ht"\ndynamic = ["version"]\n[tool.hatch.version]\npath = "src/ht/about.py"\n',
        {"src/ht/about.py": "", "src/ht/other.py": ""},
    )
    assert [str(p.relative_to(hatch)) for p in metadata_inputs(hatch)] == [
        "pyproject.toml",
        "src/ht/about.py",
    ]
    flit = project(
        tmp_path / "fl", '[project]\nname = "fl"\ndynamic = ["version", "description"]\n', {"fl.py": ""}
    )
    assert [p.name for p in metadata_inputs(flit)] == ["fl.py", "pyproject.toml"]


def test_editable_revision_ignores_module_edits(tmp_path: Path) -> None:
    root = project(tmp_path / "p", '[project]\nname = "p"\nversion = "1"\n', {"p/__init__.py": "A = 1\n"})
    before = editable_revision(root)
    (root / "p" / "__init__.py").write_text("A = 2\n")
    (root / "p" / "new.py").write_text("")
    assert editable_revision(root) == before
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "2"\n')
    bumped = editable_revision(root)
    assert bumped != before
    (root / "setup.cfg").write_text("[metadata]\n")  # a new setup.cfg: another revision
    with_cfg = editable_revision(root)
    assert with_cfg != bumped
    (root / "setup.cfg").write_text("[metadata]\nname = p\n")  # its content counts too
    assert editable_revision(root) not in (bumped, with_cfg)


def test_plan_replaces_when_only_editable_differs(tmp_path: Path) -> None:
    url = tmp_path.as_uri()
    have = Installed(
        canonicalize_name("p"), "1", tmp_path / "p-1.dist-info",
        {"url": url, "dir_info": {"editable": True}, "wheelwright": {"revision": "r"}}, True,
    )  # fmt: skip
    want = Wanted(canonicalize_name("p"), "1", "p-1-py3-none-any.whl", "/x", {"url": url, "dir_info": {}})
    want_same = Wanted(want.name, "1", want.filename, "/x", have.direct_url)
    assert plan_sync({have.name: have}, {want.name: want}).replace
    assert plan_sync({have.name: have}, {want.name: want_same}).keep
