"""PEP 751 pylock.toml out of `lock` and into `sync`, validated with packaging.pylock; every kind of
source (index wheels and sdists, a direct archive, git at its commit, a local directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.pylock import Pylock

from tests.e2e import doit, installed, sync
from tests.support.wheels import make_sdist, make_sdist_dir, make_wheel
from tests.test_build_e2e import backends, commit_project, git, repo  # noqa: F401  (fixtures, used by name)
from tests.test_lock_e2e import pins

pytestmark = pytest.mark.usefixtures("isolated_env")


def lock(source: Path, out: Path, cache: Path, *extra: str):  # type: ignore[no-untyped-def]
    return doit("lock", f"req={source}", f"out={out}", f"cache={cache}", *extra, cwd=out.parent)


def document(path: Path) -> Pylock:
    lock = Pylock.from_dict(tomllib.loads(path.read_text()))
    lock.validate()
    return lock


@pytest.fixture
def simple(index, wheelhouse: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    make_wheel(wheelhouse, "app", "2.0", requires_dist=["lib>=1"])
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "lib", "1.5")
    make_wheel(wheelhouse, "lib", "1.5", tag="cp399-cp399-manylinux_2_17_x86_64")  # not for this target
    make_sdist(wheelhouse, "lib", "1.5")
    source = tmp_path / "requirements.in"
    source.write_text(f"--index-url {index.url}\napp\n")
    return source


def test_lock_writes_a_valid_pylock_that_our_sync_installs(simple: Path, tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pylock.toml"
    run = lock(simple, out, tmp_path / "cache")
    assert run.code == 0, run.err
    doc = document(out)
    assert doc.created_by == "wheelwright" and str(doc.lock_version) == "1.0"
    by_name = {p.name: p for p in doc.packages}
    assert {n: str(p.version) for n, p in by_name.items()} == {"app": "2.0", "lib": "1.5"}
    lib = by_name["lib"]
    assert lib.index == index.url and lib.sdist is not None and lib.sdist.size
    assert sorted(w.name for w in lib.wheels or ()) == [
        "lib-1.5-cp399-cp399-manylinux_2_17_x86_64.whl",
        "lib-1.5-py3-none-any.whl",
    ]
    wheel = next(iter(lib.wheels or ()))
    assert wheel.url and wheel.size and wheel.upload_time and len(wheel.hashes["sha256"]) == 64
    assert doc.requires_python is not None and doc.environments
    run = sync(out, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"app": "2.0", "lib": "1.5"}


def test_other_toml_names_are_refused_and_nothing_is_written(simple: Path, tmp_path: Path) -> None:
    out = tmp_path / "locked.toml"
    run = lock(simple, out, tmp_path / "cache")
    assert run.code != 0 and len(run.errors) == 1, run.err
    assert "pylock.toml or pylock.<name>.toml" in run.errors[0] and not out.exists()
    run = lock(simple, tmp_path / "pylock.dev.toml", tmp_path / "cache")
    assert run.code == 0, run.err


def test_an_invalid_pylock_is_one_line_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "pylock.toml"
    bad.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nversion = "1.0"\n')
    run = sync(bad, tmp_path / "venv", tmp_path / "cache")
    assert run.code != 0 and len(run.errors) == 1, run.err
    assert "Missing required value in 'packages[0].name'" in run.errors[0] and "Traceback" not in run.err
    assert not (tmp_path / "venv").exists()


def test_a_tampered_hash_is_refused(simple: Path, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert lock(simple, out, tmp_path / "cache").code == 0
    text = out.read_text()
    doc = document(out)
    app = next(p for p in doc.packages if p.name == "app")
    good = next(iter(app.wheels or ())).hashes["sha256"]
    out.write_text(text.replace(good, "0" * 64))
    run = sync(out, tmp_path / "venv", tmp_path / "other-cache")
    assert run.code != 0 and run.errors, run.err
    assert "app" in run.errors[0]


@pytest.mark.usefixtures("backends")
def test_directory_vcs_and_archive_round_trip(index, wheelhouse: Path, tmp_path: Path, repo: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    make_wheel(wheelhouse, "dep", "1.0")
    direct = make_wheel(tmp_path / "files", "direct", "1.0")
    project = make_sdist_dir(tmp_path / "proj" / "localpkg", "localpkg", "0.3", requires_dist=["dep"])
    head = git(repo, "rev-parse", "HEAD")
    source = tmp_path / "proj" / "requirements.in"
    source.write_text(
        f"--index-url {index.url}\n-e ./localpkg\ngitpkg @ git+{repo.as_uri()}@main\n"
        f"direct @ {index.url.rsplit('/simple', 1)[0]}/files/{direct.name}\n"
    )
    (wheelhouse / direct.name).write_bytes(direct.read_bytes())
    out = tmp_path / "proj" / "pylock.toml"
    run = lock(source, out, tmp_path / "cache")
    assert run.code == 0, run.err
    by_name = {p.name: p for p in document(out).packages}
    assert by_name["localpkg"].directory is not None
    assert by_name["localpkg"].directory.path == "./localpkg" and by_name["localpkg"].directory.editable
    assert by_name["gitpkg"].vcs is not None and by_name["gitpkg"].vcs.commit_id == head
    assert by_name["gitpkg"].vcs.requested_revision == "main"
    archive = by_name["direct"].archive
    assert archive is not None and len(archive.hashes["sha256"]) == 64
    assert str(project) not in out.read_text()
    run = sync(out, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"localpkg": "0.3", "dep": "1.0", "gitpkg": "1.0", "direct": "1.0"}
    commit_project(repo, "2.0")  # a new commit on main: the lock still names the one it built
    run = sync(out, tmp_path / "venv2", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv2")["gitpkg"] == "1.0"


def test_sync_selects_extras_and_groups_by_marker(index, wheelhouse: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {n: make_wheel(wheelhouse, n, "1.0") for n in ("base", "devtool", "tester")}
    import hashlib

    def entry(name: str, marker: str | None) -> str:
        wheel = files[name]
        sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        mark = f"marker = {marker!r}\n" if marker else ""
        url = f"{index.url.rsplit('/simple', 1)[0]}/files/{wheel.name}"
        return (
            f'[[packages]]\nname = "{name}"\nversion = "1.0"\nindex = "{index.url}"\n{mark}'
            f'wheels = [{{ name = "{wheel.name}", url = "{url}", hashes = {{ sha256 = "{sha}" }} }}]\n'
        )

    pylock = tmp_path / "pylock.toml"
    pylock.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\nextras = ["dev"]\ndependency-groups = ["test"]\n'
        "default-groups = []\n"
        + entry("base", None)
        + entry("devtool", "'dev' in extras")
        + entry("tester", "'test' in dependency_groups")
    )
    run = sync(pylock, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"base": "1.0"}
    run = sync(pylock, tmp_path / "venv", tmp_path / "cache", "extras=dev", "groups=test")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"base": "1.0", "devtool": "1.0", "tester": "1.0"}


# --- interoperability: pip 26.3 and uv read what we write; we read what uv writes ---------------

TOOLS = Path(sys.executable).parent  # the pipeline's own environment holds pip 26.3 and uv (dev.txt)


def tool(*words: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env |= {"PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}
    return subprocess.run(list(words), capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def bare_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def test_pip_and_uv_install_our_pylock_to_the_set_we_sync(simple: Path, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert lock(simple, out, tmp_path / "cache").code == 0
    assert sync(out, tmp_path / "ours", tmp_path / "cache").code == 0
    ours = installed(tmp_path / "ours")
    pip_venv = bare_venv(tmp_path / "by-pip")
    done = tool(
        str(TOOLS / "python"), "-m", "pip", "--python", str(pip_venv / "bin" / "python"), "install",
        "--no-cache-dir", "--disable-pip-version-check", "-r", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(pip_venv) == ours
    uv_venv = bare_venv(tmp_path / "by-uv")
    done = tool(
        str(TOOLS / "uv"), "pip", "sync", "--python", str(uv_venv / "bin" / "python"),
        "--cache-dir", str(tmp_path / "uv-cache"), str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(uv_venv) == ours


def test_a_pylock_uv_writes_syncs_with_ours_to_the_same_set(simple: Path, tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pylock.toml"
    done = tool(
        str(TOOLS / "uv"), "pip", "compile", str(simple), "-o", str(out), "--index-url", index.url,
        "--cache-dir", str(tmp_path / "uv-cache"), "--python", sys.executable, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document(out)
    run = sync(out, tmp_path / "ours", tmp_path / "cache")
    assert run.code == 0, run.err
    uv_venv = bare_venv(tmp_path / "by-uv")
    done = tool(
        str(TOOLS / "uv"), "pip", "sync", "--python", str(uv_venv / "bin" / "python"),
        "--cache-dir", str(tmp_path / "uv-cache"), str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(tmp_path / "ours") == installed(uv_venv) == {"app": "2.0", "lib": "1.5"}


def test_pyproject_pins_match_uv_pip_compile(index, wheelhouse: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib<2"])
    make_wheel(wheelhouse, "app", "2.0", requires_dist=["lib>=1"])
    for version in ("1.0", "1.9", "2.0"):
        make_wheel(wheelhouse, "lib", version)
    make_wheel(wheelhouse, "devtool", "3.0", requires_dist=["lib<2"])
    make_wheel(wheelhouse, "tester", "1.0")
    make_wheel(wheelhouse, "linter", "0.9")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\ndependencies = ["app"]\n'
        '[project.optional-dependencies]\ndev = ["devtool"]\n'
        '[dependency-groups]\ntest = ["tester", {include-group = "lint"}]\nlint = ["linter"]\n'
    )
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    out = tmp_path / "ours.txt"
    run = lock(project / "pyproject.toml", out, tmp_path / "cache", "extras=dev", "groups=test")
    assert run.code == 0, run.err
    theirs = tmp_path / "uv.txt"
    done = tool(
        str(TOOLS / "uv"),
        "pip",
        "compile",
        str(project / "pyproject.toml"),
        "--extra",
        "dev",
        "--group",
        "test",
        "-o",
        str(theirs),
        "--index-url",
        index.url,
        "--cache-dir",
        str(tmp_path / "uv-cache"),
        "--python",
        sys.executable,
        cwd=project,
    )  # fmt: skip  (uv reads --group from the pyproject.toml of its working directory)
    assert done.returncode == 0, done.stderr
    expected = {"app": "2.0", "lib": "1.9", "devtool": "3.0", "tester": "1.0", "linter": "0.9"}
    assert pins(out) == pins(theirs) == expected


def test_a_noop_sync_of_a_pylock_does_not_parse_it(simple: Path, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert lock(simple, out, tmp_path / "cache").code == 0
    words = [f"req={out}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    env = {**os.environ, "WHEELWRIGHT_CWD": str(tmp_path)}
    for _ in range(3):  # sync; record each pin's chosen file and memoize the outline; then the no-op
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "tasks", "sync", *words],
            cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    # a no-op (tomllib itself is imported by doit, which reads pyproject.toml)
    assert "Audited" in done.stdout + done.stderr
    assert "packaging.pylock" not in imported and "tasks.inputs.pylock" not in imported


def test_pyproject_extras_and_groups_become_package_markers(
    index, wheelhouse: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["shared"])
    make_wheel(wheelhouse, "devtool", "1.0", requires_dist=["shared", "devonly"])
    for name in ("shared", "devonly", "tester"):
        make_wheel(wheelhouse, name, "1.0")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\ndependencies = ["app"]\n'
        '[project.optional-dependencies]\ndev = ["devtool"]\n[dependency-groups]\ntest = ["tester"]\n'
    )
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    out = project / "pylock.toml"
    run = lock(project / "pyproject.toml", out, tmp_path / "cache", "extras=dev", "groups=test")
    assert run.code == 0, run.err
    doc = document(out)
    markers = {p.name: str(p.marker) if p.marker else None for p in doc.packages}
    assert markers == {
        "app": None,
        "shared": None,  # the base needs it too
        "devtool": '"dev" in extras',
        "devonly": '"dev" in extras',
        "tester": '"test" in dependency_groups',
    }
    assert list(doc.extras or ()) == ["dev"] and list(doc.dependency_groups or ()) == ["test"]
    venv = tmp_path / "venv"
    assert sync(out, venv, tmp_path / "cache").code == 0
    assert installed(venv) == {"app": "1.0", "shared": "1.0"}
    assert sync(out, venv, tmp_path / "cache", "extras=dev").code == 0
    assert installed(venv) == {"app": "1.0", "shared": "1.0", "devtool": "1.0", "devonly": "1.0"}
    assert sync(out, venv, tmp_path / "cache", "groups=test").code == 0
    assert installed(venv) == {"app": "1.0", "shared": "1.0", "tester": "1.0"}


@pytest.mark.usefixtures("backends")
def test_an_sdist_only_pin_is_written_as_sdist_and_built_on_sync(
    index, wheelhouse: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    make_sdist(wheelhouse, "sdonly", "1.0", backend="flit")
    source = tmp_path / "requirements.in"
    source.write_text(f"--index-url {index.url}\nsdonly\n")
    out = tmp_path / "pylock.toml"
    assert lock(source, out, tmp_path / "cache").code == 0
    (package,) = document(out).packages
    assert package.wheels is None and package.sdist is not None
    assert package.sdist.name == "sdonly-1.0.tar.gz" and package.sdist.size
    run = sync(out, tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"sdonly": "1.0"}


def test_pip_and_uv_select_our_extra_and_group_markers_as_we_do(  # type: ignore[no-untyped-def]
    index, wheelhouse: Path, tmp_path: Path, monkeypatch
) -> None:
    make_wheel(wheelhouse, "app", "1.0")
    make_wheel(wheelhouse, "devtool", "1.0")
    make_wheel(wheelhouse, "tester", "1.0")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\ndependencies = ["app"]\n'
        '[project.optional-dependencies]\ndev = ["devtool"]\n[dependency-groups]\ntest = ["tester"]\n'
    )
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    out = project / "pylock.toml"
    assert lock(project / "pyproject.toml", out, tmp_path / "cache", "extras=dev", "groups=test").code == 0
    assert sync(out, tmp_path / "ours", tmp_path / "cache", "extras=dev", "groups=test").code == 0
    ours = installed(tmp_path / "ours")
    assert ours == {"app": "1.0", "devtool": "1.0", "tester": "1.0"}
    pip_venv = bare_venv(tmp_path / "by-pip")
    done = tool(
        str(TOOLS / "python"), "-m", "pip", "--python", str(pip_venv / "bin" / "python"), "install",
        "--no-cache-dir", "--disable-pip-version-check", "-r", f"{out}[dev]", "--group", f"{out}:test",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(pip_venv) == ours
    uv_venv = bare_venv(tmp_path / "by-uv")
    done = tool(
        str(TOOLS / "uv"), "pip", "sync", "--python", str(uv_venv / "bin" / "python"), "--extra", "dev",
        "--group", "test", "--cache-dir", str(tmp_path / "uv-cache"), str(out), cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(uv_venv) == ours
    plain = bare_venv(tmp_path / "pip-plain")
    done = tool(
        str(TOOLS / "python"), "-m", "pip", "--python", str(plain / "bin" / "python"), "install",
        "--no-cache-dir", "--disable-pip-version-check", "-r", str(out), cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed(plain) == {"app": "1.0"}  # without the extra and the group: neither
