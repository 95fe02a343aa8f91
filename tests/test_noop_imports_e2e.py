"""What a no-op may load: no planner, no packaging parsers, no requests, GitPython, boto3 or yaml.

A no-op `./doit sync` is decided before doit starts (`tasks.run.early_noop`): it parses no lock, and makes
the remote checks of its URL and git sources with `http.client` and `git ls-remote`. Each run here
goes through `python -m tasks`, as `./doit` does, with a sitecustomize that writes the names of the
modules loaded when the process exits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import Run, doit
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends, lock_file, repo

__all__ = ["backends", "repo"]  # fixtures, used by name

FORBIDDEN = (
    "tasks.run.model",  # the planner
    "packaging.requirements",
    "packaging.markers",
    "requests",
    "git",  # GitPython
    "boto3",
    "yaml",
)
DUMP = """\
import atexit, os, sys

def _dump():
    if not sys.argv[0].endswith(os.path.join("tasks", "__main__.py")):
        return  # a worker process (spawned for unpacking or building), not the run itself
    with open(os.environ["MODULES_OUT"], "w") as out:
        out.write("\\n".join(sorted(sys.modules)))

atexit.register(_dump)
"""


def run_logging_modules(tmp_path: Path, *words: str) -> tuple[Run, set[str]]:
    site, out = tmp_path / "dump-site", tmp_path / "modules.txt"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(DUMP)
    out.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(site), MODULES_OUT=str(out))
    run = doit(*words, env=env)
    return run, set(out.read_text().split())


def loaded_forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN)


@pytest.mark.parametrize("remote", [False, True], ids=["local", "remote_cache"])
def test_no_op_loads_no_planner_or_heavy_library(
    index: IndexServer, wheelhouse: Path, tmp_path: Path, remote: bool
) -> None:
    make_wheel(wheelhouse, "pkga", "1.0")
    lock = tmp_path / "lock.txt"
    lock.write_text(f"--index-url {index.url}\npkga==1.0\n")
    extra = ["remote_cache=s3://nowhere-bucket/ci"] if remote else []
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}", *extra]
    cold, modules = run_logging_modules(tmp_path, *words)
    assert cold.code == 0, cold.err
    assert "tasks.run.model" in modules  # the dump sees what a planning run loads
    for which in ("first no-op after the sync", "steady no-op"):
        run, modules = run_logging_modules(tmp_path, *words)
        assert run.code == 0 and not any(t.startswith("fetch") for t in run.ran), (which, run.err)
        assert "Audited 1 package" in run.out, run.out
        assert "tasks.run.early_noop" in modules  # the run itself was seen
        assert "doit" not in modules, which  # decided before doit started
        assert loaded_forbidden(modules) == [], which


def test_sources_no_op_asks_upstream_without_requests_or_gitpython(
    index: IndexServer, backends: Path, repo: Path, tmp_path: Path
) -> None:
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    make_wheel(backends, "pkga", "1.0")
    url, git = f"{index.files_url}/urlpkg-1.0.tar.gz", f"git+{repo.as_uri()}@main"
    lock = lock_file(tmp_path / "lock.txt", index.url, f"urlpkg @ {url}", f"gitpkg @ {git}", "pkga==1.0")
    words = ["sync", f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    cold, _ = run_logging_modules(tmp_path, *words)
    assert cold.code == 0, cold.err
    for which in ("first no-op after the sync", "steady no-op"):
        index.clear_log()
        run, modules = run_logging_modules(tmp_path, *words)
        assert run.code == 0 and "Audited 3 packages" in run.out, (which, run.out, run.err)
        assert [(r.path, r.status) for r in index.requests] == [("/files/urlpkg-1.0.tar.gz", 304)], which
        assert "tasks.run.early_noop" in modules and "doit" not in modules, which
        assert loaded_forbidden(modules) == [], which
