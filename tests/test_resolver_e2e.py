"""`./doit lock` end to end for the resolver's policies (issue 22), against a loopback index."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import Run, doit, sync
from tests.support.wheels import make_sdist, make_wheel, wheel_filename
from tests.test_build_e2e import backends as backends_fixture

backends = backends_fixture  # the pinned build backends on the loopback index (a fixture)

pytestmark = pytest.mark.usefixtures("isolated_env")


def lock(req: Path, *extra: str) -> Run:
    out, cache = req.with_suffix(".txt"), req.parent / "cache"
    return doit("lock", f"req={req}", f"out={out}", f"cache={cache}", *extra)


def pins(req: Path) -> dict[str, str]:
    found = {}
    for line in req.with_suffix(".txt").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            found[name] = rest.split()[0]
    return found


def test_walks_back_through_300_releases_to_the_one_that_fits(
    index: Any, wheelhouse: Path, tmp_path: Path
) -> None:
    """Only a release from long ago fits the input's cap on a transitive dependency."""
    for n in range(1, 301):
        make_wheel(wheelhouse, "a", str(n), requires_dist=[f"b=={n}"])
        make_wheel(wheelhouse, "b", str(n), requires_dist=["c>=2" if n >= 200 else "c<2"])
    for version in ("1.0", "2.0", "3.0"):
        make_wheel(wheelhouse, "c", version)
    req = tmp_path / "walk.in"
    req.write_text(f"-i {index.url}\na\nc<2\n")
    started = time.perf_counter()
    run = lock(req)
    seconds = time.perf_counter() - started
    assert run.code == 0, run.err
    assert pins(req) == {"a": "199", "b": "199", "c": "1.0"}
    print(f"300-release walk back: {seconds:.1f} s")


def test_only_binary_locks_a_release_with_a_wheel_and_never_builds(
    index: Any, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(wheelhouse, "a", "1.0")
    make_sdist(wheelhouse, "a", "2.0", backend="setuptools")  # no backend served: a build would fail
    req = tmp_path / "only.in"
    req.write_text(f"-i {index.url}\n--only-binary a\na\n")
    run = lock(req)
    assert run.code == 0, run.err
    assert pins(req) == {"a": "1.0"}
    assert "--only-binary a\n" in req.with_suffix(".txt").read_text()
    assert not [task for task in run.ran if task.startswith("build")]
    req.write_text(f"-i {index.url}\n--only-binary=:all:\na>=2\n")
    run = lock(req)
    assert run.code == 1
    assert run.errors == [
        "error: cannot resolve: no version of a satisfies all of: a>=2 (required by the input)"
        " (available: 2.0, 1.0); a 2.0: --only-binary excludes its sdist and no wheel fits the target"
    ], run.err


def test_no_binary_builds_from_the_sdist_in_lock_and_sync(backends: Path, index: Any, tmp_path: Path) -> None:
    make_wheel(backends, "a", "1.0", files={"a/__init__.py": "KIND = 'wheel'\n"})
    make_sdist(backends, "a", "1.0", backend="setuptools", files={"a/__init__.py": "KIND = 'sdist'\n"})
    req = tmp_path / "src.in"
    req.write_text(f"-i {index.url}\n--no-binary a\na\n")
    run = lock(req)
    assert run.code == 0, run.err
    venv = tmp_path / "venv"
    run = sync(req.with_suffix(".txt"), venv, tmp_path / "cache")
    assert run.code == 0, run.err
    assert "build_wheel:a" in run.ran
    kind = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import a; print(a.KIND)"], capture_output=True, text=True
    )
    assert kind.stdout.strip() == "sdist"


def test_pre_allows_pre_releases_for_every_project(index: Any, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "a", "1.0", requires_dist=["b"])
    make_wheel(wheelhouse, "a", "2.0b1", requires_dist=["b"])
    make_wheel(wheelhouse, "b", "1.0")
    make_wheel(wheelhouse, "b", "1.1rc1")
    req = tmp_path / "pre.in"
    req.write_text(f"-i {index.url}\na\n")
    assert lock(req).code == 0
    assert pins(req) == {"a": "1.0", "b": "1.0"}
    req.write_text(f"-i {index.url}\n--pre\na\n")
    run = lock(req, "upgrade=1")  # the lock's pins are kept otherwise
    assert run.code == 0, run.err
    assert pins(req) == {"a": "2.0b1", "b": "1.1rc1"}


def test_an_option_wheelwright_does_not_implement_is_an_error_on_its_line(
    index: Any, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(wheelhouse, "a", "1.0")
    req = tmp_path / "opts.in"
    req.write_text(f"-i {index.url}\na\n--no-build-isolation\n")
    run = lock(req)
    assert run.code == 1
    assert len(run.errors) == 1 and f"{req}:3: option --no-build-isolation is not supported" in run.errors[0]
    assert not req.with_suffix(".txt").exists()


def test_yanked_release_only_when_the_input_pins_it(index: Any, wheelhouse: Path, tmp_path: Path) -> None:
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "lib", "2.0")
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib==2.0"])
    index.yank(wheel_filename("lib", "2.0"), "broken")
    req = tmp_path / "yank.in"
    req.write_text(f"-i {index.url}\nlib==2.0\n")
    run = lock(req)
    assert run.code == 0, run.err
    assert pins(req) == {"lib": "2.0"}
    req.write_text(f"-i {index.url}\napp\n")
    run = lock(req)
    assert run.code == 1
    assert "no version of lib satisfies all of: lib==2.0 (required by app==1.0" in run.err


def test_python_version_locks_for_a_python_that_does_not_run_here(
    index: Any, wheelhouse: Path, tmp_path: Path
) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib", 'backport; python_version < "3.10"'])
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "lib", "2.0", requires_python=">=3.10")
    make_wheel(wheelhouse, "backport", "1.0")
    make_wheel(wheelhouse, "old", "2.0", requires_python="<=3.8")
    req = tmp_path / "py39.in"
    req.write_text(f"-i {index.url}\napp\n")
    run = lock(req, "python-version=3.9")
    assert run.code == 0, run.err
    assert pins(req) == {"app": "1.0", "backport": "1.0", "lib": "1.0"}
    assert "with Python 3.9\n" in req.with_suffix(".txt").read_text()
    run = lock(req, "upgrade=1")  # the interpreter that runs the tests is 3.10 or newer
    assert run.code == 0, run.err
    assert pins(req) == {"app": "1.0", "lib": "2.0"}
    req.write_text(f"-i {index.url}\nold\n")
    run = lock(req, "python-version=3.9.18")
    assert run.code == 1
    assert run.errors == [
        "error: cannot resolve: no version of old satisfies all of: old (required by the input)"
        " (available: 2.0; none has a file usable on the target interpreter);"
        " old 2.0 requires Python <=3.8; the target is 3.9.18"
    ], run.err
