"""Benchmark (not a test): twenty sources built from source, `./doit sync` beside `uv pip sync`.

Usage: .wheelwright/env/bin/python bench/sources.py [--runs N] [--timings FILE.html] [--baseline CHECKOUT]
The set is made here, on loopback: 12 index sdists, 4 direct URL sdists and 4 git repositories
(file://), all flit projects, served with the pinned build backends (this script runs
`./doit test_wheels` first, which downloads them once). Medians go to bench/results.json.
Phases: cold (empty cache, new venv), warm (warm cache, new venv), no-op (synced venv), and
one stale (a new commit in one git repository: only that one may rebuild). `--timings` keeps the
timings page of wheelwright's first cold run. `--baseline` runs another checkout's ./doit in the same
turns (the code before a change: before and after in one run, uv beside both).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.timing import medians, run_seconds, take_turns  # noqa: E402
from bench.tools import uv_sync  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.wheels import make_sdist, make_sdist_dir  # noqa: E402

GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.com",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.com",
    "PATH": "/usr/bin:/bin",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=GIT_ENV)


def build_backends() -> list[Path]:
    """The pinned build backends the loopback index serves: `./doit test_wheels` fetches them once."""
    subprocess.run([str(ROOT / "doit"), "test_wheels"], check=True, capture_output=True)
    wheels = sorted((ROOT / ".wheelwright" / "test-wheels").glob("*.whl"))
    if not wheels:
        raise SystemExit("`./doit test_wheels` left no build backends in .wheelwright/test-wheels")
    return wheels


def make_set(work: Path, house: Path, files_url: str, index_url: str) -> tuple[Path, list[Path]]:
    """Write the twenty sources and the lock naming them."""
    for wheel in build_backends():
        shutil.copy(wheel, house)
    lines = [f"--index-url {index_url}"]
    for i in range(12):
        make_sdist(house, f"idx{i:02d}", "1.0", backend="flit")
        lines.append(f"idx{i:02d}==1.0")
    for i in range(4):
        make_sdist(house, f"url{i:02d}", "1.0", backend="flit")
        lines.append(f"url{i:02d} @ {files_url}/url{i:02d}-1.0.tar.gz")
    repos = []
    for i in range(4):
        repo = make_sdist_dir(work / f"git{i:02d}", f"git{i:02d}", "1.0", backend="flit")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "one")
        repos.append(repo)
        lines.append(f"git{i:02d} @ git+{repo.as_uri()}@main")
    lock = work / "sources.txt"
    lock.write_text("\n".join(lines) + "\n")
    return lock, repos


BASELINE: list[Path] = []  # --baseline: the other checkout


def command(tool: str, lock: Path, venv: Path, cache: Path, index_url: str, *extra: str) -> list[str]:
    if tool in ("wheelwright", "baseline"):
        doit = (BASELINE[0] if tool == "baseline" else ROOT) / "doit"
        return [str(doit), "sync", f"req={lock}", f"venv={venv}", f"cache={cache}", *extra]
    return uv_sync(lock, venv, cache, "--index-url", index_url)


def timed(cmd: list[str]) -> float:
    return run_seconds(cmd, {**os.environ, "PIP_CONFIG_FILE": os.devnull})


def new_venv(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def measure(
    tool: str, work: Path, lock: Path, repos: list[Path], index_url: str, run: int, timings: str | None
) -> dict[str, float]:
    cache = work / f"{tool}-cache-{run}"
    venv = new_venv(work / f"{tool}-venv")
    page = (f"timings={Path(timings).resolve()}",) if timings and tool == "wheelwright" and run == 0 else ()
    times = {"cold": timed(command(tool, lock, venv, cache, index_url, *page))}
    venv = new_venv(work / f"{tool}-venv")
    times["warm"] = timed(command(tool, lock, venv, cache, index_url))
    times["no-op"] = timed(command(tool, lock, venv, cache, index_url))
    repo = repos[run % len(repos)]
    (repo / repo.name / "changed.py").write_text(f"RUN = {run!r}  # {tool}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"change {tool} {run}")
    times["1 of 20 stale"] = timed(command(tool, lock, venv, cache, index_url))
    shutil.rmtree(cache, ignore_errors=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timings", help="write the timings page of wheelwright's first cold run here")
    parser.add_argument("--baseline", type=Path, help="another checkout whose ./doit runs beside")
    args = parser.parse_args()
    BASELINE[:] = [args.baseline.resolve()] if args.baseline else []
    chosen = ("wheelwright", "baseline", "uv") if args.baseline else ("wheelwright", "uv")
    (ROOT / "bench" / ".work").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sources-", dir=ROOT / "bench" / ".work") as tmp:
        work = Path(tmp)
        house = work / "house"
        house.mkdir()
        with IndexServer(house) as server:
            lock, repos = make_set(work, house, server.files_url, server.url)
            results = take_turns(
                args.runs,
                chosen,
                lambda tool, run: measure(tool, work, lock, repos, server.url, run, args.timings),
            )
    phases = ["cold", "warm", "no-op", "1 of 20 stale"]
    print(f"20 sources built from source, medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print("| tool | " + " | ".join(phases) + " |\n|---|" + "---|" * len(phases))
    found = medians(results)
    if not args.baseline:
        record("sources", "20 sources built from source (bench/sources.py)", phases, found, args.runs)
    uv = found["uv"]
    for tool, by_phase in found.items():
        cells = [f"{by_phase[p]:.2f}s ({by_phase[p] / uv[p]:.2f}x)" for p in phases]
        print(f"| {tool} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
