"""The no-op decided before doit starts (tasks/run/early_noop.py), for plain index pins: it says and
reports what a doit no-op says, and steps aside for anything it cannot honour: doit's state forgotten,
a variable that changes the run, another environment of the pipeline edited. Each test first shows
the quick path is live (doit never imported), so the change after it is what the path had to notice.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e import Run, doit, installed, site_packages
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel
from tests.test_noop_imports_e2e import run_logging_modules


def write_lock(path: Path, index_url: str, *pins: str) -> Path:
    path.write_text("\n".join([f"--index-url {index_url}", *pins]) + "\n")
    return path


def quick_sync(tmp_path: Path, *words: str) -> tuple[Run, bool]:
    """A sync, and whether it was decided before doit (doit never imported)."""
    run, modules = run_logging_modules(tmp_path, "sync", *words)
    assert run.code == 0, run.err
    return run, "doit" not in modules


@pytest.fixture
def two(index: IndexServer, wheelhouse: Path, tmp_path: Path) -> list[str]:
    """alpha and beta synced into tmp_path/venv; the words of that sync."""
    for name in ("alpha", "beta"):
        make_wheel(wheelhouse, name, "1.0")
    lock = write_lock(tmp_path / "lock.txt", index.url, "alpha==1.0", "beta==1.0")
    words = [f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    first = doit("sync", *words)
    assert first.code == 0, first.err
    return words


def events(path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_a_quick_no_op_says_and_reports_what_the_full_run_does(
    two: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv("WHEELWRIGHT_EVENTS", str(log))
    short, quick = quick_sync(tmp_path, *two)
    assert quick
    short_events = events(log)
    log.unlink()
    full, quick = quick_sync(tmp_path, *two, "timeout=30")  # timeout= is declined: through doit
    assert not quick
    assert short_events == events(log), (short_events, events(log))
    assert re.sub(r"in \d+ms", "", short.out) == re.sub(r"in \d+ms", "", full.out)
    assert short.out.startswith("Audited 2 packages in ") and short.err == full.err


def test_a_forgotten_task_runs_again(two: list[str], tmp_path: Path) -> None:
    assert quick_sync(tmp_path, *two)[1]
    assert doit("forget", "fetch:alpha", *two).code == 0
    run = doit("sync", *two)
    assert run.code == 0 and "fetch:alpha" in run.ran and "fetch:beta" not in run.ran, (run.ran, run.err)
    assert quick_sync(tmp_path, *two)[1]  # and the next no-op is quick again


def test_variables_that_change_the_run_go_through_doit(two: list[str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    for extra in ("dry=1", "check=1", f"report={report}"):
        assert quick_sync(tmp_path, *two)[1], extra  # the record is live
        run, quick = quick_sync(tmp_path, *two, extra)
        assert not quick and "Audited 2 packages" in run.out, extra
    assert json.loads(report.read_text())["ok"] is True
    assert doit("sync", *two, "timeout=soon").code == 3  # refused, though there is nothing to do
    shutil.rmtree(site_packages(tmp_path / "venv") / "beta-1.0.dist-info")
    check = doit("sync", *two, "check=1")
    assert check.code == 1 and "beta" in check.out + check.err
    assert "beta" not in installed(tmp_path / "venv")


def test_each_environment_of_a_pipeline_is_checked(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    for name in ("alpha", "gamma"):
        make_wheel(wheelhouse, name, "1.0")
    write_lock(tmp_path / "web.txt", index.url, "alpha==1.0")
    write_lock(tmp_path / "tools.txt", index.url, "gamma==1.0")
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"cache: {tmp_path / 'cache'}\nenvironments:\n"
        "  web:\n    requirements: web.txt\n    path: envs/web\n"
        "  tools:\n    requirements: tools.txt\n    path: envs/tools\n"
    )
    assert doit("sync", f"config={config}").code == 0
    assert quick_sync(tmp_path, f"config={config}")[1]
    shutil.rmtree(site_packages(tmp_path / "envs" / "tools") / "gamma-1.0.dist-info")
    run = doit("sync", f"config={config}")
    assert run.code == 0 and " + gamma==1.0" in run.out, run.err
    assert installed(tmp_path / "envs" / "tools") == {"gamma": "1.0"}
    assert installed(tmp_path / "envs" / "web") == {"alpha": "1.0"}
