"""`timings=FILE.html`: the page of a real cold sync, opened in a real headless Chromium and read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.e2e import sync
from tests.support.wheels import make_sdist, make_sdist_dir, make_wheel
from tests.test_build_e2e import backends, lock_file, repo  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("isolated_env")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Debian's Chromium (.ci/run installs it when it is missing)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium on PATH: `apt-get install chromium` (.ci/run does it)")
    return found


def browse(page: Path, scratch: Path, *what: str) -> subprocess.CompletedProcess[str]:
    profile = scratch / "chromium-profile"
    words = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *what, page.as_uri()]
    return subprocess.run(words, capture_output=True, text=True, timeout=120, check=True)


class Dom(HTMLParser):
    """The parts of the rendered page a test reads: bars, source rows (with their `why`), status."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: dict[str, bool] = {}  # task → failed
        self.sources: dict[str, str] = {}  # source → its `why` cell
        self.status = ""
        self._row: str | None = None
        self._cell: str | None = None
        self._in_status = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "g" and "bar" in classes:
            self.bars[a["data-task"] or ""] = "failed" in classes
        elif tag == "tr" and "source" in classes:
            self._row = a["data-source"]
        elif tag == "td" and self._row is not None and "c4" in classes:
            self._cell = a.get("data-value") or ""
        elif tag == "p" and a.get("id") == "status":
            self._in_status = True

    def handle_data(self, data: str) -> None:
        if self._in_status:
            self.status += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self.sources[self._row], self._cell = self._cell, None
        elif tag == "tr":
            self._row = None
        elif tag == "p":
            self._in_status = False


def rendered(page: Path, scratch: Path) -> Dom:
    """The page's DOM as Chromium built it (after its inline script ran)."""
    dom = Dom()
    dom.feed(browse(page, scratch, "--dump-dom").stdout)
    return dom


def test_cold_sync_page_has_a_bar_per_task_and_the_reports_sources(
    index,
    backends: Path,  # noqa: F811
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    make_sdist(backends, "sdpkg", "1.0", backend="flit", requires_dist=["dep"])
    make_sdist(backends, "urlpkg", "1.0", backend="flit")
    make_wheel(backends, "dep", "1.0")
    lines = ["sdpkg==1.0", "dep==1.0", f"urlpkg @ {index.files_url}/urlpkg-1.0.tar.gz"]
    lock = lock_file(tmp_path / "lock.txt", index.url, *lines, f"gitpkg @ git+{repo.as_uri()}@main")
    page, report = tmp_path / "out" / "timings.html", tmp_path / "out" / "report.json"
    page.parent.mkdir()
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", f"timings={page}", f"report={report}")
    assert run.code == 0, run.err
    dom = rendered(page, tmp_path)
    assert set(dom.bars) == set(run.ran) and len(run.ran) >= 8  # fetch/build_meta/build_wheel x 3, sync
    assert not any(dom.bars.values()) and dom.status == "succeeded"
    assert {"build_wheel:sdpkg", "build_wheel:urlpkg", "build_wheel:gitpkg", "sync:cli"} <= set(dom.bars)
    sources = json.loads(report.read_text())["sources"]
    assert dom.sources == {name: facts["why"] for name, facts in sources.items()}
    assert set(dom.sources) == {"sdpkg", "dep", "urlpkg", "gitpkg"}
    html = page.read_text()
    assert "build-logs-v0" in html  # the built sources name their build logs
    assert "<script src" not in html and "<link" not in html and "://" not in html.replace(index.url, "")
    shot = tmp_path / "timings.png"
    browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_failing_sync_still_writes_the_page_with_the_failed_task_marked(
    index,
    backends: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    make_wheel(backends, "good", "1.0")
    broken = make_sdist_dir(
        tmp_path / "broken",
        "broken",
        "1.0",
        backend="setuptools",
        files={"setup.py": "raise SystemExit('setup.py exploded on purpose')\n"},
    )
    lock = lock_file(tmp_path / "lock.txt", index.url, "good==1.0", f"broken @ {broken.as_uri()}")
    page = tmp_path / "timings.html"
    run = sync(lock, tmp_path / "venv", tmp_path / "cache", f"timings={page}")
    assert run.code == 1, run.err
    dom = rendered(page, tmp_path)
    failed = [task for task, bad in dom.bars.items() if bad]
    assert failed == ["build_meta:broken"], dom.bars
    assert dom.status.startswith("failed:") and "exploded on purpose" in dom.status
    assert "fetch:good" in dom.bars and not dom.bars["fetch:good"]
