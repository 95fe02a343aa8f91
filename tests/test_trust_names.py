"""Untrusted names never become paths outside the cache: hostile index pages, URLs and archives.

End to end through `./doit sync` against a hostile index on loopback (tests/support/hostile.py):
each sync must fail with one `error:` line naming the package, no traceback, and the victim file
outside the cache untouched. Extraction is driven directly with real tar archives, among them the
CVE-2025-4517 symlink chain that defeats the `data` filter of Python's tarfile before 3.11.13.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tasks.core.errors import BuildError, UnsafeName
from tasks.core.safenames import dist_filename, member_parts, safe_segment, script_name, url_filename
from tasks.source.trees import extract_archive
from tests.e2e import Run, doit, site_packages, sync
from tests.support.hostile import HostileServer
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ORIGINAL = "precious: do not touch\n"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A directory outside the cache and the venv, holding files a hostile name aims at."""
    path = tmp_path / "victim"
    path.mkdir()
    return path


def plant(path: Path) -> Path:
    path.write_text(ORIGINAL)
    return path


def climbing(levels: int, target: Path) -> str:
    """A name that climbs `levels` directories from where the cache stores it, down to `target`.

    The cache is tmp_path/cache and the victims live in tmp_path/victim: a wheel is stored in
    downloads-v0/<uuid>/ and an index sdist in sdists-v0/<sha256>/ (3 levels below tmp_path), a
    direct URL archive in url-archives-v0/<digest>/incoming/ (4 levels).
    """
    return "../" * levels + f"{target.parent.name}/{target.name}"


def assert_refused(run: Run, package: str) -> None:
    assert run.code == 1, run.out
    assert len(run.errors) == 1, run.err
    assert package in run.errors[0], run.errors[0]
    assert "Traceback" not in run.err, run.err


def assert_untouched(victim: Path, planted: list[Path]) -> None:
    for path in planted:
        assert path.is_file() and path.read_text() == ORIGINAL, path
    assert sorted(p.name for p in victim.iterdir()) == sorted(p.name for p in planted)


def lock(tmp_path: Path, index_url: str, *lines: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("\n".join([f"--index-url {index_url}", *lines]) + "\n")
    return path


def json_page(name: str, files: list[dict[str, object]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- hostile index pages, end to end -------------------------------------------------------------


@pytest.mark.usefixtures("isolated_env")
def test_json_filename_climbing_out_is_refused(hostile: HostileServer, tmp_path: Path, victim: Path) -> None:
    wheel = make_wheel(tmp_path / "dist", "trav", "1.0")
    planted = [plant(victim / wheel.name)]
    data = wheel.read_bytes()
    url = hostile.serve(f"/files/{wheel.name}", data)
    entry = {"filename": climbing(3, victim / wheel.name), "url": url, "hashes": {"sha256": sha256(data)}}
    hostile.serve("/simple/trav/", json_page("trav", [entry]), JSON_TYPE)
    run = sync(lock(tmp_path, hostile.url, "trav==1.0"), tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "trav")
    assert "file name" in run.errors[0]
    assert_untouched(victim, planted)


@pytest.mark.usefixtures("isolated_env")
def test_html_href_with_encoded_slashes_is_refused(
    hostile: HostileServer, tmp_path: Path, victim: Path
) -> None:
    wheel = make_wheel(tmp_path / "dist", "trav", "1.0")
    planted = [plant(victim / wheel.name)]
    data = wheel.read_bytes()
    path = "/files/" + quote(climbing(3, victim / wheel.name), safe="")
    assert "..%2F" in path
    hostile.serve(path, data)
    page = f'<html><body><a href="{path}#sha256={sha256(data)}">{wheel.name}</a></body></html>'
    hostile.serve("/simple/trav/", page.encode(), "text/html")
    run = sync(lock(tmp_path, hostile.url, "trav==1.0"), tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "trav")
    assert_untouched(victim, planted)


@pytest.mark.usefixtures("isolated_env")
def test_index_sdist_with_climbing_filename_is_refused(
    hostile: HostileServer, tmp_path: Path, victim: Path
) -> None:
    sdist = make_sdist(tmp_path / "dist", "trav", "1.0")
    planted = [plant(victim / sdist.name)]
    data = sdist.read_bytes()
    url = hostile.serve(f"/files/{sdist.name}", data)
    entry = {"filename": climbing(3, victim / sdist.name), "url": url, "hashes": {"sha256": sha256(data)}}
    hostile.serve("/simple/trav/", json_page("trav", [entry]), JSON_TYPE)
    run = sync(lock(tmp_path, hostile.url, "trav==1.0"), tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "trav")
    assert_untouched(victim, planted)


@pytest.mark.usefixtures("isolated_env")
def test_hash_that_is_a_path_is_refused(hostile: HostileServer, tmp_path: Path, victim: Path) -> None:
    sdist = make_sdist(tmp_path / "dist", "trav", "1.0")
    url = hostile.serve(f"/files/{sdist.name}", sdist.read_bytes())
    entry = {"filename": sdist.name, "url": url, "hashes": {"sha256": climbing(2, victim / "dir")}}
    hostile.serve("/simple/trav/", json_page("trav", [entry]), JSON_TYPE)
    run = sync(lock(tmp_path, hostile.url, "trav==1.0"), tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "trav")
    assert "sha256" in run.errors[0]
    assert list(victim.iterdir()) == []


@pytest.mark.usefixtures("isolated_env")
def test_file_of_another_project_is_refused(hostile: HostileServer, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "dist", "evil", "1.0")
    data = wheel.read_bytes()
    url = hostile.serve(f"/files/{wheel.name}", data)
    listed = {"filename": wheel.name, "url": url, "hashes": {"sha256": sha256(data)}}  # not trav's
    hostile.serve("/simple/trav/", json_page("trav", [listed]), JSON_TYPE)
    venv = tmp_path / "venv"
    run = sync(lock(tmp_path, hostile.url, "trav==1.0"), venv, tmp_path / "cache")
    assert run.code == 1
    assert len(run.errors) == 1 and "trav" in run.errors[0], run.err
    assert not (venv / "lib").exists() or not list(site_packages(venv).glob("evil*"))


@pytest.mark.usefixtures("isolated_env")
def test_lock_refuses_the_same_page(hostile: HostileServer, tmp_path: Path, victim: Path) -> None:
    """`./doit lock` reads pages through the resolver's finder: the same refusal, the same line."""
    wheel = make_wheel(tmp_path / "dist", "trav", "1.0")
    data = wheel.read_bytes()
    url = hostile.serve(f"/files/{wheel.name}", data)
    entry = {"filename": climbing(4, victim / wheel.name), "url": url, "hashes": {"sha256": sha256(data)}}
    hostile.serve("/simple/trav/", json_page("trav", [entry]), JSON_TYPE)
    loose = tmp_path / "requirements.in"
    loose.write_text(f"--index-url {hostile.url}\ntrav\n")
    out = tmp_path / "requirements.txt"
    run = doit("lock", f"req={loose}", f"out={out}", f"cache={tmp_path / 'cache'}")
    assert_refused(run, "trav")
    assert not out.exists()
    assert list(victim.iterdir()) == []


# --- direct URLs whose basename decodes to a path ------------------------------------------------


@pytest.mark.usefixtures("isolated_env")
@pytest.mark.parametrize("flavour", ["wheel", "sdist"])
def test_direct_url_basename_climbing_out_is_refused(
    hostile: HostileServer, tmp_path: Path, victim: Path, flavour: str
) -> None:
    if flavour == "wheel":
        made, levels = make_wheel(tmp_path / "dist", "trav", "1.0"), 3
        aimed = victim / made.name
    else:
        made, levels = make_sdist(tmp_path / "dist", "trav", "1.0"), 4
        aimed = victim / "victim.cfg"
    planted = [plant(aimed)]
    url = hostile.serve("/files/" + quote(climbing(levels, aimed), safe=""), made.read_bytes())
    run = sync(lock(tmp_path, hostile.url, f"trav @ {url}"), tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "trav")
    assert_untouched(victim, planted)
    assert not any(p.startswith("/files/") for p in hostile.seen)  # refused before any download


# --- the one place: names ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "../x.whl", "x\x00.whl", "x\n.whl"])
def test_safe_segment_refuses(name: str) -> None:
    with pytest.raises(UnsafeName):
        safe_segment(name, what="file name", package="p", source="http://u:secret@127.0.0.1/s")


def test_refusal_names_package_and_source_without_credentials() -> None:
    with pytest.raises(UnsafeName) as caught:
        safe_segment("../x", what="file name", package="trav", source="http://u:secret@127.0.0.1/s")
    assert caught.value.package == "trav"
    assert "secret" not in str(caught.value) and "127.0.0.1/s" in str(caught.value)


def test_distribution_names() -> None:
    assert dist_filename("Trav_X-1.0-py3-none-any.whl", "trav-x") == "Trav_X-1.0-py3-none-any.whl"
    assert dist_filename("trav-1.0.tar.gz", "trav") == "trav-1.0.tar.gz"
    for bad in ("evil-1.0-py3-none-any.whl", "trav-1.0.exe", "trav.whl", "trav-1.0-py3.whl"):
        with pytest.raises(UnsafeName):
            dist_filename(bad, "trav")


def test_url_basenames() -> None:
    assert url_filename("http://127.0.0.1/a/master.zip") == "master.zip"
    assert url_filename("http://127.0.0.1/") == "archive"
    assert url_filename("http://127.0.0.1/a/trav%2D1.0.tar.gz") == "trav-1.0.tar.gz"
    for bad in ("http://127.0.0.1/..%2Fvictim.cfg", "http://127.0.0.1/%2E%2E", "http://127.0.0.1/x%00.zip"):
        with pytest.raises(UnsafeName):
            url_filename(bad)


def test_member_and_script_names() -> None:
    assert member_parts("./pkg-1.0//src/./a.py") == ["pkg-1.0", "src", "a.py"]
    for bad in ("/etc/passwd", "a/../../b", "..", "a/\x01"):
        with pytest.raises(ValueError):
            member_parts(bad)
    assert script_name("tool") == "tool"
    for bad in ("../evil", "a/b", ".."):
        with pytest.raises(UnsafeName):
            script_name(bad, package="p")


# --- extraction ----------------------------------------------------------------------------------


class Tar:
    """A tar archive built member by member (names and links exactly as given)."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def file(self, name: str, text: str = "x") -> Tar:
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        self.tar.addfile(info, io.BytesIO(data))
        return self

    def add(self, name: str, kind: bytes, linkname: str = "", mode: int = 0o755) -> Tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = kind, linkname, mode
        self.tar.addfile(info)
        return self

    def symlink(self, name: str, target: str) -> Tar:
        return self.add(name, tarfile.SYMTYPE, target)

    def write(self, path: Path) -> Path:
        self.tar.close()
        path.write_bytes(self.buffer.getvalue())
        return path


def everything_below(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def cve_2025_4517_archive(dest: Path) -> Tar:
    """The realpath-limit attack of CPython's test_tarfile (gh-135034), aimed at dest's parent."""
    steps = "abcdefghijklmnop"
    max_path = os.pathconf(dest.parent, "PC_PATH_MAX")
    component = "d" * ((max_path - len(str(dest)) - 1) // (len(steps) + 1))
    arc, path = Tar(), ""
    for step in steps:
        arc.add(os.path.join(path, component), tarfile.DIRTYPE, mode=0o777)
        arc.symlink(os.path.join(path, step), component)
        path = os.path.join(path, component)
    link = os.path.join(*steps, "l" * 254)
    arc.symlink(link, os.path.join(*[".."] * len(steps)))
    arc.symlink("escape", os.path.join(link, ".."))
    arc.add("flaglink", tarfile.LNKTYPE, os.path.join("escape", "flag"))
    arc.file("flaglink", "overwrite")
    arc.file("escape/newfile", "new")
    return arc


def test_symlink_chain_escape_is_refused(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    flag = plant(outer / "flag")
    target = outer / "tree"
    archive = cve_2025_4517_archive(target).write(tmp_path / "chain.tar")
    with pytest.raises(BuildError) as caught:
        extract_archive(archive, target, package="evil")
    assert caught.value.package == "evil" and "link" in caught.value.cause
    assert flag.read_text() == ORIGINAL
    assert sorted(p.name for p in outer.iterdir()) == ["flag"]  # no tree, no newfile, no temp left


@pytest.mark.parametrize(
    "arc",
    [
        pytest.param(lambda: Tar().file("pkg/../../outside.txt"), id="dot-dot member"),
        pytest.param(lambda: Tar().file("/tmp/absolute.txt"), id="absolute member"),
        pytest.param(lambda: Tar().symlink("pkg/out", "../../outside.txt"), id="link out"),
        pytest.param(lambda: Tar().symlink("pkg/hosts", "/etc/hosts"), id="absolute link"),
        pytest.param(lambda: Tar().symlink("pkg/d", ".").file("pkg/d/x.txt"), id="member below a link"),
        pytest.param(
            lambda: Tar().add("pkg/sub", tarfile.DIRTYPE).symlink("pkg/a", "sub").symlink("pkg/b", "a/../.."),
            id="link through a link",
        ),
        pytest.param(lambda: Tar().add("pkg/l", tarfile.LNKTYPE, "../outside.txt"), id="hard link out"),
        pytest.param(lambda: Tar().add("pkg/fifo", tarfile.FIFOTYPE), id="fifo"),
        pytest.param(lambda: Tar().add("pkg/dev", tarfile.CHRTYPE), id="device"),
    ],
)
def test_unsafe_members_are_refused_before_writing(tmp_path: Path, arc: object) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    archive = arc().file("pkg/first.txt").write(tmp_path / "bad.tar")  # type: ignore[operator]
    with pytest.raises(BuildError):
        extract_archive(archive, outer / "tree", package="evil")
    assert everything_below(outer) == set()
    assert not (tmp_path / "outside.txt").exists()


def test_links_inside_the_tree_are_kept(tmp_path: Path) -> None:
    arc = Tar().file("pkg/src/real.py", "A = 1\n").symlink("pkg/alias.py", "src/real.py")
    arc.add("pkg/copy.py", tarfile.LNKTYPE, "pkg/src/real.py").add("pkg/src/run.sh", tarfile.REGTYPE)
    archive = arc.write(tmp_path / "ok.tar")
    tree = extract_archive(archive, tmp_path / "tree", package="ok")
    assert (tree / "pkg" / "alias.py").is_symlink()
    assert (tree / "pkg" / "alias.py").read_text() == "A = 1\n"
    assert (tree / "pkg" / "copy.py").read_text() == "A = 1\n"
    assert not (tree / "pkg" / "copy.py").is_symlink()


# --- git checkouts ---------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo.parent),
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env)
    return run.stdout.strip()


@pytest.mark.usefixtures("isolated_env")
def test_git_symlink_out_of_the_repository_is_one_error_line(index: IndexServer, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "pyproject.toml").write_text('[project]\nname = "gitpkg"\nversion = "1.0"\n')
    (repo / "hosts").symlink_to("/etc/hosts")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link out")
    req = lock(tmp_path, index.url, f"gitpkg @ git+file://{repo}@main")
    run = sync(req, tmp_path / "venv", tmp_path / "cache")
    assert_refused(run, "gitpkg")
    assert "hosts" in run.errors[0]


# --- console scripts -------------------------------------------------------------------------------


@pytest.mark.usefixtures("isolated_env")
def test_script_name_climbing_out_leaves_nothing_behind(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(
        wheelhouse,
        "scripty",
        "1.0",
        files={"scripty/__init__.py": "def main():\n    pass\n", "scripty/sub/deep.py": ""},
        console_scripts={"../evil": "scripty:main"},
    )
    venv = tmp_path / "venv"
    run = sync(lock(tmp_path, index.url, "scripty==1.0"), venv, tmp_path / "cache")
    assert_refused(run, "scripty")
    assert "script" in run.errors[0]
    site = site_packages(venv)
    assert not (site / "scripty").exists()
    assert not list(site.glob("scripty-*"))
    assert not (venv / "evil").exists()
