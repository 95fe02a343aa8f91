"""Benchmark (not a test): one CI runner alone against a matrix of four shards sharing one build cache.

Usage: .wheelwright/env/bin/python bench/fleet.py [--runs N] [--sleep SECONDS] [--store file|s3|both]
Twenty local sources, each built by a real PEP 517 backend (flit_core behind a recording shim) that
sleeps --sleep seconds in each of its two build hooks (about a second a source by default). Per run:
one runner alone (cold cache, no store) syncs all twenty; then four shard runners (separate cold
caches) run `build_wheel shard=K/4` at once against a new store, and a fifth, cold, syncs from it.
The matrix's time is the slowest shard plus the final sync.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sources import build_backends, new_venv  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.s3 import aws_environment, recording_tree, write_tree  # noqa: E402

SOURCES = 20


def make_sources(work: Path, index_url: str) -> Path:
    """Twenty recorded flit projects on disk and the lock naming them."""
    lines = [f"--index-url {index_url}"]
    for i in range(SOURCES):
        name = f"fleet{i:02d}"
        path = write_tree(work / "src" / name, recording_tree(name, "1.0"))
        lines.append(f"{name} @ {path.as_uri()}")
    lock = work / "fleet.txt"
    lock.write_text("\n".join(lines) + "\n")
    return lock


def doit(task: str, lock: Path, runner: Path, *extra: str) -> list[str]:
    words = [f"req={lock}", f"venv={new_venv(runner / 'venv')}", f"cache={runner / 'cache'}", *extra]
    return [str(ROOT / "doit"), task, *words]


def wall(cmds: list[list[str]]) -> float:
    """Run the commands at once; the wall time until the last one ends."""
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    start = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for c in cmds]
    for proc, cmd in zip(procs, cmds, strict=True):
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    return time.perf_counter() - start


def one_run(work: Path, lock: Path, store: str, fresh: str) -> dict[str, float]:
    """One runner alone; four shards at once, then a cold sync; each shard alone against `fresh`."""
    shutil.rmtree(work / "runners", ignore_errors=True)
    runners = work / "runners"
    alone = wall([doit("sync", lock, runners / "alone", "remote_cache=off")])
    shard = [
        doit("build_wheel", lock, runners / f"s{k}", f"shard={k}/4", f"remote_cache={store}")
        for k in range(1, 5)
    ]
    together = wall(shard)  # four processes on this machine at once
    final = wall([doit("sync", lock, runners / "final", f"remote_cache={store}")])
    # a fleet gives each shard its own machine: each shard alone, against a store of its own run
    apart = max(
        wall([doit("build_wheel", lock, runners / f"t{k}", f"shard={k}/4", f"remote_cache={fresh}")])
        for k in range(1, 5)
    )
    return {
        "one runner alone": alone,
        "4 shards at once": together,
        "final sync": final,
        "matrix on this machine": together + final,
        "slowest shard alone": apart,
        "matrix on 4 machines": apart + final,
    }


def stores(kind: str, work: Path, endpoint: str | None) -> str:
    if kind == "file":
        return (work / "stores" / f"fleet-store{uuid.uuid4().hex}").as_uri()
    import boto3

    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    boto3.session.Session().client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/fleet-store"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.5, help="seconds each build hook sleeps")
    parser.add_argument("--store", choices=["file", "s3", "both"], default="both")
    args = parser.parse_args()
    kinds = ["file", "s3"] if args.store == "both" else [args.store]
    os.environ.update({f"WW_TEST_BUILD_SLEEP_FLEET{i:02d}": str(args.sleep) for i in range(SOURCES)})
    (ROOT / "bench" / ".work").mkdir(exist_ok=True)
    server, endpoint = None, None
    if "s3" in kinds:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ.update(aws_environment(endpoint, ROOT / "bench" / ".work"))
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fleet-", dir=ROOT / "bench" / ".work") as tmp:
            work = Path(tmp)
            house = work / "house"
            house.mkdir()
            for wheel in build_backends():
                shutil.copy(wheel, house)
            with IndexServer(house) as index:
                lock = make_sources(work, index.url)
                for _ in range(args.runs):
                    for kind in kinds:
                        pair = (stores(kind, work, endpoint), stores(kind, work, endpoint))
                        for phase, seconds in one_run(work, lock, *pair).items():
                            results.setdefault(kind, {}).setdefault(phase, []).append(seconds)
    finally:
        if server is not None:
            server.stop()
    what = f"{SOURCES} sources, each build hook sleeping {args.sleep:g}s"
    print(f"{what}, medians of {args.runs} runs, {os.cpu_count()} cores\n")
    phases = [
        "one runner alone",
        "matrix on this machine",
        "slowest shard alone",
        "final sync",
        "matrix on 4 machines",
    ]
    print(
        "| store | " + " | ".join(phases) + " | speed-up on 4 machines |\n|---|" + "---|" * (len(phases) + 1)
    )
    for kind, by_phase in results.items():
        med = {p: statistics.median(v) for p, v in by_phase.items()}
        cells = " | ".join(f"{med[p]:.2f}s" for p in phases)
        print(f"| {kind} | {cells} | {med['one runner alone'] / med['matrix on 4 machines']:.2f}x |")


if __name__ == "__main__":
    main()
