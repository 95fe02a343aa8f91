"""The `wheelwright` command installed into a fresh venv from the checkout, used in projects of its own.

The venv is built once per session (`pip install <checkout>`, offline: the build backend and the
pipeline's pins come from what `./doit test_wheels` downloaded). Each test runs the command in a
temporary project with its own HOME and user cache, against the loopback index.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tasks import __version__
from tasks.stages.test import COMMAND_WHEELS, TEST_WHEELS
from tests.e2e import ROOT, doit, installed, started_tasks
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist_dir, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "WHEELWRIGHT_"))}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="session")
def command(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`wheelwright`, installed with `pip install <checkout>` into a fresh venv (once per session)."""
    if not any(COMMAND_WHEELS.glob("doit-*.whl")):
        pytest.fail(f"run `./doit test_wheels` first: {COMMAND_WHEELS} has no wheels")
    venv = tmp_path_factory.mktemp("command") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    links = ["--find-links", str(TEST_WHEELS), "--find-links", str(COMMAND_WHEELS)]
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", *links, str(ROOT)],
        env=_pip_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin" / "wheelwright"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    ran: tuple[str, ...]

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return Path(os.environ["HOME"])


def environ(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in _pip_env().items() if k not in ("XDG_CACHE_HOME",)}
    return env | {"HOME": str(home), "XDG_CACHE_HOME": str(home / "xdg-cache")} | extra


def run(command: Path, *words: str, cwd: Path, env: dict[str, str], timeout: float = 180) -> Ran:
    events = cwd / f".events-{time.monotonic_ns()}.jsonl"
    done = subprocess.run(
        [str(command), *words],
        cwd=cwd,
        env=env | {"WHEELWRIGHT_EVENTS": str(events)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    ran = started_tasks(events)
    events.unlink(missing_ok=True)
    return Ran(done.returncode, done.stdout, done.stderr, ran)


def tmp_empty(project: Path) -> Path:
    """A directory beside the project with nothing in it."""
    path = project.parent / "empty"
    path.mkdir()
    return path


def lock_text(index: IndexServer, *pins: str) -> str:
    return "\n".join([f"--index-url {index.url}", *pins]) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "myproj"
    (path / "src" / "deep").mkdir(parents=True)
    return path


# --- installed: version, help, what is listed -------------------------------------------------


def test_version_help_and_no_developer_tasks(command: Path, project: Path, home: Path) -> None:
    env = environ(home)
    version = run(command, "--version", cwd=project, env=env)
    assert version.code == 0 and version.out.startswith(f"wheelwright {__version__} (doit 0.37")
    helped = run(command, "help", cwd=project, env=env)
    assert helped.code == 0 and "  sync " in helped.out and "  lock " in helped.out
    assert "test_wheels" not in helped.out and "  test " not in helped.out
    assert helped.out.index("  sync ") < helped.out.index("doit's commands")
    assert run(command, "--help", cwd=project, env=env).out == helped.out.split("\ndoit's commands")[0]
    for words in (("help", "sync"), ("sync", "--help")):
        shown = run(command, *words, cwd=project, env=env)
        assert shown.code == 0 and "check=" in shown.out and "dry=" in shown.out and "venv=" in shown.out
        assert "(default: 0)" in shown.out and not (project / ".venv").exists()
    listed = run(command, "list", cwd=project, env=env)
    assert listed.code == 0 and "sync" in listed.out and "test" not in listed.out.split()
    assert "test" in doit("list").out.split()  # ./doit in wheelwright's own checkout: developer tasks too


def test_built_wheel_holds_the_pipeline_and_the_command(tmp_path: Path) -> None:
    words = ["wheel", "--no-deps", "--no-index", "-f", str(TEST_WHEELS), "--wheel-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "pip", *words, str(ROOT)],
        env=_pip_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("wheelwright-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tasks/dodo.py" in names and "tasks/__main__.py" in names and "tasks/inputs/variables.py" in names
    assert not [n for n in names if n.startswith("tests/")]
    points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "wheelwright = tasks.__main__:command" in zipfile.ZipFile(wheel).read(points).decode()


def test_doit_wrapper_through_a_symlink(tmp_path: Path) -> None:
    link = tmp_path / "bin" / "ww"
    link.parent.mkdir()
    link.symlink_to(ROOT / "doit")
    env = {k: v for k, v in os.environ.items() if k != "WHEELWRIGHT_HOME"}
    done = subprocess.run([str(link), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("wheelwright "), done.stderr
    assert "No such file" not in done.stderr


# --- it finds your project ---------------------------------------------------------------------


def test_pipeline_yaml_found_from_a_subdirectory(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    (project / "app.txt").write_text(lock_text(index, "alpha==1.0"))
    (project / "pipeline.yaml").write_text(
        "environments:\n  app:\n    requirements: app.txt\n    path: envs/app\n"
    )
    synced = run(command, "sync", cwd=project / "src" / "deep", env=environ(home))
    assert synced.code == 0, synced.err
    assert synced.lines[0] == f"wheelwright: {project}/pipeline.yaml: app: app.txt -> envs/app"
    assert installed(project / "envs" / "app").get("alpha") == "1.0"
    quiet = run(command, "sync", "-q", cwd=project, env=environ(home))
    assert quiet.code == 0 and quiet.err == ""
    assert (home / "xdg-cache" / "wheelwright" / "state-v0").is_dir()  # the user cache, not the project


def test_defaults_without_pipeline_yaml(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    (project / "pyproject.toml").write_text("[project]\nname = 'myproj'\nversion = '0.1'\n")
    (project / "requirements.in").write_text(lock_text(index, "alpha"))
    where = project / "src" / "deep"
    locked = run(command, "lock", cwd=where, env=environ(home))
    assert locked.code == 0, locked.err
    assert "no pipeline.yaml" in locked.lines[0] and "requirements.txt -> .venv" in locked.lines[0]
    assert "alpha==1.0" in (project / "requirements.txt").read_text()
    synced = run(command, "sync", cwd=where, env=environ(home))
    assert synced.code == 0, synced.err
    assert installed(project / ".venv").get("alpha") == "1.0"
    gone = run(command, "sync", cwd=tmp_empty(project), env=environ(home))
    assert gone.code == 1 and gone.lines[-1].endswith(
        "requirements.txt: No such file or directory (make it with `wheelwright lock` from a requirements.in)"
    )
    active = project / "active-env"
    into = run(command, "sync", cwd=where, env=environ(home, VIRTUAL_ENV=str(active)))
    assert into.code == 0 and installed(active).get("alpha") == "1.0", into.err


def test_defaults_are_pyproject_and_pylock_when_the_requirements_files_are_absent(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    make_wheel(wheelhouse, "beta", "2.0")
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'myproj'\nversion = '0.1'\ndependencies = ['alpha']\n"
    )
    env = environ(home, PIP_INDEX_URL=index.url)
    first = run(command, "lock", "req=pyproject.toml", "out=pylock.toml", cwd=project, env=env)
    assert first.code == 0, first.err
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'myproj'\nversion = '0.1'\ndependencies = ['alpha', 'beta']\n"
    )
    relocked = run(command, "lock", cwd=project, env=env)  # pyproject.toml into the pylock.toml there
    assert relocked.code == 0, relocked.err
    assert "no pipeline.yaml" in relocked.lines[0] and "pylock.toml -> .venv" in relocked.lines[0]
    assert not (project / "requirements.txt").exists()
    synced = run(command, "sync", cwd=project, env=env)
    assert synced.code == 0, synced.err
    assert installed(project / ".venv") == {"alpha": "1.0", "beta": "2.0"}
    (project / "requirements.in").write_text(lock_text(index, "alpha"))  # a requirements.in wins again
    assert run(command, "lock", cwd=project, env=env).code == 0
    assert '\nname = "beta"' not in (project / "pylock.toml").read_text()


def test_init_writes_a_pipeline_yaml_that_lock_and_sync_use(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    (project / "requirements.in").write_text(lock_text(index, "alpha"))
    made = run(command, "init", cwd=project, env=environ(home))
    assert made.code == 0, made.err
    text = (project / "pipeline.yaml").read_text()
    assert made.out == text and "requirements: requirements.txt" in text and "in: requirements.in" in text
    assert run(command, "lock", cwd=project, env=environ(home)).code == 0
    synced = run(command, "sync", cwd=project, env=environ(home))
    assert synced.code == 0 and synced.lines[0].startswith(f"wheelwright: {project}/pipeline.yaml:")
    assert installed(project / ".venv").get("alpha") == "1.0"
    again = run(command, "init", cwd=project, env=environ(home))
    assert again.code == 3 and again.lines == [f"error: {project}/pipeline.yaml exists already; "
                                               "edit it, or remove it to start again"]  # fmt: skip
    assert (project / "pipeline.yaml").read_text() == text


def test_build_meta_of_a_path_source_in_the_user_cache(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    for wheel in TEST_WHEELS.glob("*.whl"):  # the pinned build backends, on the loopback index
        shutil.copy(wheel, wheelhouse)
    source = make_sdist_dir(project / "lib", "lib", "1.0", backend="hatchling", requires_dist=["dep>=1"])
    (project / "requirements.txt").write_text(lock_text(index, f"lib @ {source.as_uri()}"))
    built = run(command, "build_meta:lib", cwd=project, env=environ(home))
    assert built.code == 0, built.err
    (meta,) = (home / "xdg-cache" / "wheelwright" / "built-wheel-metadata-v0").rglob("metadata.json")
    assert built.out.strip() == f"build_meta:lib: {meta}"
    assert json.loads(meta.read_text())["prepared"]["requires-dist"] == ["dep>=1"]
    assert not (project / ".venv").exists()


# --- one cache per user, state per project -------------------------------------------------------


def test_two_projects_share_the_user_cache_not_their_task_state(
    command: Path, tmp_path: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "alpha", "1.0")
    make_wheel(wheelhouse, "alpha", "2.0")
    projects = {"one": "1.0", "two": "2.0"}
    for name, version in projects.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text(lock_text(index, f"alpha=={version}"))
    env = environ(home)
    for name, version in projects.items():  # first round: each fetches its own alpha
        first = run(command, "sync", cwd=tmp_path / name, env=env)
        assert first.code == 0 and "fetch:alpha" in first.ran, first.err
        assert installed(tmp_path / name / ".venv") == {"alpha": version}
    for name, version in [*projects.items(), *projects.items()]:  # then alternating: nothing to do
        again = run(command, "sync", cwd=tmp_path / name, env=env)
        assert again.code == 0 and "fetch:alpha" not in again.ran, (name, again.ran, again.err)
        assert "Audited 1 package" in again.out and installed(tmp_path / name / ".venv") == {"alpha": version}
    cache = home / "xdg-cache" / "wheelwright"
    assert len(list(cache.glob("state-v0/*/doit-state.sqlite3"))) == 2
    assert len(list(cache.glob("archive-v0/*"))) == 2  # both wheels, in the one shared cache


# --- strict input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "line"),
    [
        (("sync", "chek=1"), "error: unknown variable 'chek' for sync (did you mean check?)"),
        (("dyr=1",), "error: unknown variable 'dyr' for sync (did you mean dry?)"),
        (("sync", "venvv=x"), "error: unknown variable 'venvv' for sync (did you mean venv?)"),
        (("lock", "upgrad=1"), "error: unknown variable 'upgrad' for lock (did you mean upgrade?)"),
        (("sync", "days=3"), "error: unknown variable 'days' for sync (days= is for prune)"),
    ],
)
def test_unknown_variable_is_one_line_exit_3_before_anything_runs(
    command: Path, project: Path, home: Path, words: tuple[str, ...], line: str
) -> None:
    (project / "requirements.txt").write_text("")
    refused = run(command, *words, cwd=project, env=environ(home))
    assert (refused.code, refused.lines, refused.out) == (3, [line], "")
    assert not (project / ".venv").exists() and not (home / "xdg-cache").exists()


@pytest.mark.parametrize(
    ("yaml", "line", "made"),
    [
        ("enviroments:\n  app: {}\n", ":1: unknown key 'enviroments' (did you mean environments?)", None),
        (
            "environments:\n  app:\n    requirements: r.txt\n    path: [a]\n",
            ":4: environments.app.path: expected a string, got a list",
            "['a']",
        ),
        ("cache: 5\n", ":1: cache: expected a string, got a number (quote it)", "5"),
        (
            "environments:\n  app:\n    requirements: r.txt\n    path: v\n    pyhton: python3\n",
            ":5: unknown key 'environments.app.pyhton' (did you mean python?)",
            None,
        ),
        ("environments:\n  app:\n    path: v\n", ":2: environments.app: `requirements:` is missing", None),
    ],
)
def test_bad_pipeline_yaml_is_one_line_exit_3(
    command: Path, project: Path, home: Path, yaml: str, line: str, made: str | None
) -> None:
    (project / "pipeline.yaml").write_text(yaml)
    refused = run(command, "sync", cwd=project / "src", env=environ(home))
    assert (refused.code, refused.lines) == (3, [f"error: {project}/pipeline.yaml{line}"])
    if made:
        assert not (project / made).exists() and not (project / "src" / made).exists()


def test_missing_config_file_says_it_is_missing(command: Path, project: Path, home: Path) -> None:
    refused = run(command, "sync", "config=other.yaml", cwd=project, env=environ(home))
    assert (refused.code, refused.lines) == (
        3,
        [f"error: config=other.yaml: {project}/other.yaml does not exist"],
    )


# --- interrupts -------------------------------------------------------------------------------


def test_ctrl_c_mid_download_is_one_line_exit_130_and_the_next_sync_finishes(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(wheelhouse, "big", "1.0", files={"big/__init__.py": "", "big/data.bin": os.urandom(300_000)})
    (project / "requirements.txt").write_text(lock_text(index, "big==1.0"))
    index.stall("/files/big", seconds=60)
    process = subprocess.Popen(
        [str(command), "sync"], cwd=project, env=environ(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(r.path.startswith("/files/big") for r in index.requests):
        time.sleep(0.05)
    time.sleep(0.3)  # inside the stalled read
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=60)[1].decode()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "interrupted; the next run picks up where this one stopped"
    again = run(command, "sync", cwd=project, env=environ(home))
    assert again.code == 0, again.err
    assert installed(project / ".venv") == {"big": "1.0"}


# --- missing dependencies ------------------------------------------------------------------------


def test_missing_dependency_warned_after_a_sync_and_failed_by_check(
    command: Path, project: Path, home: Path, index: IndexServer, wheelhouse: Path
) -> None:
    make_wheel(
        wheelhouse,
        "myproj",
        "0.1",
        requires_dist=[
            "requests>=2.30",
            "winonly; sys_platform == 'win32'",
            "alpha>=2",
            "gamma[x]; extra == 'x'",
        ],
    )
    make_wheel(wheelhouse, "alpha", "1.0")
    (project / "requirements.txt").write_text(lock_text(index, "myproj==0.1", "alpha==1.0"))
    env = environ(home)
    synced = run(command, "sync", cwd=project, env=env)
    assert synced.code == 0, synced.err
    warnings = [line for line in synced.lines if line.startswith("warning:")]
    assert warnings == [
        "warning: myproj 0.1 requires requests>=2.30, which is not installed",
        "warning: myproj 0.1 requires alpha>=2, but alpha 1.0 is installed",
    ]
    noop = run(command, "sync", cwd=project, env=env)
    assert noop.code == 0 and "warning:" not in noop.err  # a no-op sync decides without reading metadata
    checked = run(command, "sync", "check=1", cwd=project, env=env)
    assert checked.code == 1 and [line for line in checked.lines if line.startswith("warning:")] == warnings
    assert [line for line in checked.lines if line.startswith("error:")] == [
        f"error: default: {project}/.venv: 2 requirement(s) of installed distributions not met"
    ]


def test_pyproject_dependencies_are_the_pipeline_pins() -> None:
    import tomllib

    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = table["dependencies"]
    pins = [
        line.strip()
        for line in (ROOT / "requirements" / "pipeline.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(declared) == sorted(pins)
    assert json.dumps(table["scripts"]) == json.dumps({"wheelwright": "tasks.__main__:command"})
