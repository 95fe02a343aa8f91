"""The run's events: what a real fetch and sync report, and the console lines they print (unchanged)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.console.lines import ConsoleReporter
from tasks.core import events
from tasks.core.eventkinds import (
    Built,
    DistInstalled,
    Downloaded,
    Locked,
    MetadataReady,
    Started,
    SyncSummary,
    Waiting,
    Warned,
)
from tasks.core.events import Change, Event, JsonLinesReporter, Tee, emit, set_reporter
from tasks.envs.interpreter import Interpreter
from tasks.inputs.config import Indexes
from tasks.wheels.registry import fetch_registry_wheel
from tests.e2e import doit, sync
from tests.support.wheels import make_sdist_dir, make_wheel
from tests.test_build_e2e import backends  # noqa: F401 (the pinned build backends on the loopback index)

pytestmark = pytest.mark.usefixtures("isolated_env")


class Recorder:
    """A reporter that keeps every event (from any thread)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def event(self, e: Event) -> None:
        with self._lock:
            self.events.append(e)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    before = set_reporter(recorder)
    yield recorder
    set_reporter(before)


def read_events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def of_kind(found: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [e for e in found if e["kind"] == kind]


# --- library calls, a recording reporter ------------------------------------------------------


def test_fetch_reports_the_download_and_a_yanked_pin_once(
    index, wheelhouse: Path, tmp_path: Path, recorder: Recorder
) -> None:
    wheel = make_wheel(wheelhouse, "alpha", "1.0")
    index.yank(wheel.name, "broken")
    interp = Interpreter("/py", "/p", "/p", "3.11.7", {}, ("py3-none-any",), {}, {})
    fetch = dict(
        name="alpha", version="1.0", hashes=frozenset(), indexes=Indexes((index.url,), ()), interp=interp
    )
    fetch_registry_wheel(**fetch, cache=tmp_path / "cache")  # type: ignore[arg-type]
    assert recorder.kinds() == ["warning", "downloaded"]
    warning, downloaded = recorder.events
    assert warning.message == "alpha==1.0 is yanked: broken" and warning.package == "alpha"
    assert (downloaded.package, downloaded.filename) == ("alpha", wheel.name)
    assert downloaded.bytes == wheel.stat().st_size and downloaded.source and "alpha" in downloaded.source

    recorder.events.clear()
    fetch_registry_wheel(**fetch, cache=tmp_path / "cache")  # type: ignore[arg-type]
    assert recorder.kinds() == ["warning"]  # unpacked already: nothing downloaded


# --- ./doit, the events as JSON lines -------------------------------------------------------------


def test_sync_events_as_json_lines(index, wheelhouse: Path, tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv(events.EVENTS_ENV, str(log))
    make_wheel(wheelhouse, "alpha", "1.0")
    make_wheel(wheelhouse, "beta", "2.0")
    lock, venv, cache = tmp_path / "lock.txt", tmp_path / "venv", tmp_path / "cache"
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\nbeta==2.0\n")

    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    found = read_events(log)
    assert {e["task"] for e in of_kind(found, "started")} >= {"fetch:alpha", "fetch:beta"}
    assert sorted(e["package"] for e in of_kind(found, "downloaded")) == ["alpha", "beta"]
    assert all(isinstance(e["bytes"], int) and e["bytes"] > 0 for e in of_kind(found, "downloaded"))
    installed = of_kind(found, "installed")
    assert sorted((e["package"], e["version"]) for e in installed) == [("alpha", "1.0"), ("beta", "2.0")]
    (summary,) = of_kind(found, "summary")
    assert summary["path"] == str(venv) and summary["created"] is True and summary["count"] == 0
    assert summary["changes"] == [
        {"op": "install", "name": "alpha", "version": "1.0"},
        {"op": "install", "name": "beta", "version": "2.0"},
    ]
    # the console shows uv's summary lines
    assert "Resolved 2 packages in " in first.out and f"(cli: {venv}, created)\n" in first.out
    assert (
        "Prepared 2 packages in " in first.out
        and "(2 downloaded, 0 built, 0 reused from the cache)" in first.out
    )
    assert "Installed 2 packages in " in first.out and first.out.endswith(" + alpha==1.0\n + beta==2.0\n")

    log.unlink()
    lock.write_text(f"--index-url {index.url}\nalpha==1.0\n")
    second = sync(lock, venv, cache)
    assert second.code == 0, second.err
    found = read_events(log)
    assert [(e["package"], e["version"]) for e in of_kind(found, "removed")] == [("beta", "2.0")]
    assert not of_kind(found, "downloaded") and not of_kind(found, "installed")
    assert of_kind(found, "summary")[0]["changes"] == [{"op": "remove", "name": "beta", "old": "2.0"}]
    assert second.out.endswith(" - beta==2.0\n") and "Uninstalled 1 package in " in second.out
    assert "Installed" not in second.out and "Prepared" not in second.out

    log.unlink()
    third = sync(lock, venv, cache)  # nothing to do: the quick check says so
    assert third.code == 0, third.err
    found = read_events(log)
    assert {e["kind"] for e in found} <= {"project", "summary", "started", "finished", "skipped_check"}
    assert of_kind(found, "summary")[0]["count"] == 1 and "changes" not in of_kind(found, "summary")[0]
    assert third.out.startswith("Audited 1 package in ") and third.out.count("\n") == 1


@pytest.mark.usefixtures("backends")
def test_builds_are_reported(index, tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv(events.EVENTS_ENV, str(log))
    project = make_sdist_dir(tmp_path / "proj", "proj", "1.0", backend="flit")
    lock, venv, cache = tmp_path / "lock.txt", tmp_path / "venv", tmp_path / "cache"
    lock.write_text(f"--index-url {index.url}\nproj @ {project.as_uri()}\n")

    meta = doit("build_meta:proj", f"req={lock}", f"venv={venv}", f"cache={cache}")
    assert meta.code == 0, meta.err
    found = read_events(log)
    (built,) = of_kind(found, "built")
    assert (built["package"], built["filename"], built["source"]) == ("proj", "metadata.json", str(project))
    assert isinstance(built["seconds"], float) and built["seconds"] > 0
    (said,) = of_kind(found, "metadata")
    assert said["path"] == built["path"] and f"build_meta:proj: {said['path']}\n" in meta.out

    log.unlink()
    assert sync(lock, venv, cache).code == 0
    found = read_events(log)
    (wheel,) = of_kind(found, "built")
    assert wheel["package"] == "proj" and str(wheel["filename"]).endswith(".whl")
    assert [e["package"] for e in of_kind(found, "installed")] == ["proj"]

    log.unlink()
    assert sync(lock, tmp_path / "venv2", cache).code == 0  # a second environment: nothing is built again
    found = read_events(log)
    assert not of_kind(found, "built") and not of_kind(found, "downloaded")
    assert {"fetch:proj", "build_meta:proj", "build_wheel:proj"} <= {
        e["task"] for e in of_kind(found, "skipped_check")
    }


# --- the console reporter: the lines the program has always printed -----------------------------


CONSOLE = [
    (
        SyncSummary(
            task="dev",
            path="/v",
            created=True,
            count=3,
            seconds=0.123,
            changes=(
                Change("install", "a", version="1"),
                Change("replace", "b", version="2", old="1"),
                Change("remove", "c", old="0.5"),
            ),
        ),
        "Resolved 5 packages in 0ms (dev: /v, created)\nUninstalled 2 packages in 0ms\n"
        "Installed 2 packages in 0ms\n + a==1\n ~ b==1 -> 2\n - c==0.5\n",
        "",
    ),
    (
        SyncSummary(task="dev", path="/v", count=2, created=False, seconds=0.004),
        "Audited 2 packages in 4ms (dev: /v)\n",
        "",
    ),
    (
        Locked(task="dev", path="/r/dev.txt", count=7, seconds=1.5),
        "dev: /r/dev.txt: 7 pins in 1.50s\n",
        "",
    ),
    (
        MetadataReady(task="build_meta:proj", package="proj", path="/c/m.json", message="asked"),
        "build_meta:proj: /c/m.json\n",
        "",
    ),
    (MetadataReady(task="build_meta:proj", package="proj", path="/c/m.json"), "", ""),  # a sync's own
    (Warned("a==1 is yanked: bad"), "", "warning: a==1 is yanked: bad\n"),
    (Waiting("waiting for another sync of /v"), "", "waiting for another sync of /v\n"),
    (Downloaded(package="a", filename="a-1-py3-none-any.whl", source="index", bytes=10), "", ""),
    (DistInstalled(package="a", version="1", filename="a-1-py3-none-any.whl", path="/v"), "", ""),
    (Built(package="a", source="/a", filename="a-1-py3-none-any.whl", path="/c/a.whl", seconds=1.0), "", ""),
]


CONSOLE_IDS = [e.kind + ("-asked" if getattr(e, "message", None) == "asked" else "") for e, _, _ in CONSOLE]


@pytest.mark.parametrize(("event", "out", "err"), CONSOLE, ids=CONSOLE_IDS)
def test_console_lines(event: Event, out: str, err: str, capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleReporter().event(event)
    assert capsys.readouterr() == (out, err)


def test_default_reporter_is_the_console_and_the_json_file(tmp_path: Path, monkeypatch, capsys) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv(events.EVENTS_ENV, str(log))
    before = set_reporter(None)
    try:
        assert isinstance(events.reporter(), Tee)
        emit(Warned("careful"))
        events.warn("again")
    finally:
        set_reporter(before)
    assert capsys.readouterr().err == "warning: careful\nwarning: again\n"
    assert read_events(log) == [
        {"kind": "warning", "message": "careful"},
        {"kind": "warning", "message": "again"},
    ]


def test_json_lines_from_many_threads_stay_whole(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    reporter = JsonLinesReporter(str(log))
    threads = [
        threading.Thread(target=lambda n=n: [reporter.event(Started(task=f"t{n}:{i}")) for i in range(50)])
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({e["task"] for e in read_events(log)}) == 400
