"""Benchmark (not a test): `./doit lock` beside `uv pip compile` and `pip-compile`.

Usage: .wheelwright/env/bin/python bench/lock.py [--runs N] [SET ...]
Sets are names in ../shared/bench-requirements (default: black, trio, requirements without its
git line). Every tool gets the same single index (pip's configured one) and the same Python.
Cold: empty cache. Warm: the cache of the cold run, no previous lock (a full re-resolution).
Prints medians (ratio to uv) and the pins that differ from uv's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync import configured_index  # noqa: E402
from bench.tools import tool_env  # noqa: E402

SETS = ROOT.parent / "shared" / "bench-requirements"


def input_file(name: str, work: Path) -> Path:
    """The set as a file (a name in SETS, or a path to a `.in`); git lines are dropped (their hosts
    are out of reach here)."""
    given = Path(name) if name.endswith(".in") else SETS / f"{name}.in"
    text = given.read_text()
    kept = [line for line in text.splitlines() if "git+" not in line]
    path = work / given.name
    path.write_text("\n".join(kept) + "\n")
    return path


def commands(tool: str, req: Path, out: Path, cache: Path) -> list[str]:
    tools = tool_env() / "bin"
    if tool == "wheelwright":
        return [str(ROOT / "doit"), "lock", f"req={req}", f"out={out}", f"cache={cache}"]
    if tool == "uv":
        return [
            str(tools / "uv"),
            "pip",
            "compile",
            "-q",
            "--cache-dir",
            str(cache),
            "--python",
            sys.executable,
            "--generate-hashes",
            "-o",
            str(out),
            str(req),
        ]
    return [
        str(tools / "pip-compile"),
        "-q",
        "--cache-dir",
        str(cache),
        "--generate-hashes",
        "-o",
        str(out),
        str(req),
    ]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def measure(tool: str, req: Path, work: Path, env: dict[str, str], runs: int) -> tuple[float, float, Path]:
    cold, warm = [], []
    out = work / f"{tool}-{req.stem}.txt"
    for run in range(runs):
        cache = work / f"{tool}-{req.stem}-cache-{run}"
        out.unlink(missing_ok=True)
        cold.append(timed(commands(tool, req, out, cache), env))
        out.unlink(missing_ok=True)
        warm.append(timed(commands(tool, req, out, cache), env))
        shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(cold), statistics.median(warm), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["black", "trio", "requirements"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=["wheelwright", "uv", "pip-tools"])
    args = parser.parse_args()
    index = configured_index()
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index, "UV_INDEX_URL": index}
    for key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        env.pop(key, None)
    rows, diffs = [], []
    work_root = ROOT / "bench" / ".work"
    work_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lock-", dir=work_root) as tmp:
        work = Path(tmp)
        for name in args.sets:
            req = input_file(name, work)
            results = {tool: measure(tool, req, work, env, args.runs) for tool in args.tools}
            uv_cold, uv_warm, uv_out = results["uv"]
            for tool, (cold, warm, _) in results.items():
                ratios = f"{cold:.2f}s ({cold / uv_cold:.2f}x) | {warm:.2f}s ({warm / uv_warm:.2f}x)"
                rows.append(f"| {name} | {tool} | {ratios} |")
            ours, theirs = pins(results["wheelwright"][2]), pins(uv_out)
            for pkg in sorted(set(ours) | set(theirs)):
                if ours.get(pkg) != theirs.get(pkg):
                    diffs.append(f"{name}: {pkg}: wheelwright {ours.get(pkg)}, uv {theirs.get(pkg)}")
            print(f"{name}: done", file=sys.stderr)
    print(f"medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print("| set | tool | cold | warm relock |\n|---|---|---|---|")
    print("\n".join(rows))
    print("\npins that differ from uv's:" if diffs else "\npins agree with uv's on every set")
    print("\n".join(diffs))


if __name__ == "__main__":
    main()
