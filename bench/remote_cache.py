"""Benchmark (not a test): two CI runners sharing one build cache on an S3 API (moto's server, loopback).

Usage: .wheelwright/env/bin/python bench/remote_cache.py [--runs N] [--slow SECONDS]
The twenty sources of bench/sources.py (12 index sdists, 4 URL sdists, 4 git repositories), one of
them a deliberately slow build (its backend sleeps --slow seconds in each build hook). Each run, with
a new bucket: runner A cold (builds all twenty, uploads them), runner B cold with the shared store
(takes all twenty), runner B cold without it (builds all twenty), and runner A cold without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sources import git, make_set, new_venv, timed  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.s3 import aws_environment, recording_tree, write_tree  # noqa: E402

PHASES = ["A cold, no store", "A cold, uploading", "B cold, from the store", "B cold, no store"]


def slow_source(repo: Path) -> None:
    """Make the first git repository a recorded build that sleeps (WW_TEST_BUILD_SLEEP_GIT00)."""
    write_tree(repo, recording_tree("git00", "1.0"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "slow")


def sync(work: Path, lock: Path, runner: str, store: str) -> float:
    cache, venv = work / f"{runner}-cache", new_venv(work / f"{runner}-venv")
    shutil.rmtree(cache, ignore_errors=True)
    cmd = [
        str(ROOT / "doit"),
        "sync",
        f"req={lock}",
        f"venv={venv}",
        f"cache={cache}",
        f"remote_cache={store}",
    ]
    seconds = timed(cmd)
    shutil.rmtree(cache, ignore_errors=True)
    return seconds


def one_run(work: Path, lock: Path, endpoint: str) -> dict[str, float]:
    import boto3

    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    boto3.session.Session().client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    store = f"s3://{bucket}/fleet"
    return {
        "A cold, no store": sync(work, lock, "a", "off"),
        "A cold, uploading": sync(work, lock, "a", store),
        "B cold, from the store": sync(work, lock, "b", store),
        "B cold, no store": sync(work, lock, "b", "off"),
    }


def main() -> None:
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slow", type=float, default=3.0, help="seconds the slow backend sleeps per hook")
    args = parser.parse_args()
    (ROOT / "bench" / ".work").mkdir(exist_ok=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(aws_environment(f"http://{host}:{port}", ROOT / "bench" / ".work"))
    os.environ["WW_TEST_BUILD_SLEEP_GIT00"] = str(args.slow)
    results: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="remote-", dir=ROOT / "bench" / ".work") as tmp:
            work = Path(tmp)
            (work / "house").mkdir()
            with IndexServer(work / "house") as index:
                lock, repos = make_set(work, work / "house", index.files_url, index.url)
                slow_source(repos[0])
                for _ in range(args.runs):
                    for phase, seconds in one_run(work, lock, f"http://{host}:{port}").items():
                        results.setdefault(phase, []).append(seconds)
    finally:
        server.stop()
    print(f"20 sources (one sleeps {args.slow:g}s per build hook), medians of {args.runs} runs\n")
    print("| runner | wall time |\n|---|---|")
    for phase in PHASES:
        print(f"| {phase} | {statistics.median(results[phase]):.2f}s |")


if __name__ == "__main__":
    main()
