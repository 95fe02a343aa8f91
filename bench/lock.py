"""Benchmark (not a test): `./doit lock` beside `uv pip compile` and `pip-compile`.

Usage: .wheelwright/env/bin/python bench/lock.py [--runs N] [--tools T ...] [--baseline CHECKOUT]
       [--sets-dir DIR] [SET ...]
Sets are names in ../shared/bench-requirements (default: black, trio, requirements without its
git line) or paths to `.in` files. Every tool gets the same single index (pip's configured one)
and the same Python. Cold: empty cache. Warm: the cache of the cold run, no previous lock (a full
re-resolution). The tools take turns run by run (cold then warm each), so a change in the
machine's load moves every tool alike; `--baseline` runs another checkout's `./doit` in the same
turns (the code before a change). Prints medians (ratio to uv), each run's peak memory (RSS,
median) and the pins that differ from uv's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync import SHARED, configured_index  # noqa: E402
from bench.timing import Measured, measured_medians, run_measured, take_turns  # noqa: E402
from bench.tools import pip_compile, uv_compile  # noqa: E402

SETS = SHARED / "bench-requirements"
PHASES = ("cold", "warm")


def input_file(name: str, sets: Path, work: Path) -> Path:
    """The set as a file (a name in `sets`, or a path to a `.in`); git lines are dropped (their
    hosts are out of reach here)."""
    given = Path(name) if name.endswith(".in") else sets / f"{name}.in"
    text = given.read_text()
    kept = [line for line in text.splitlines() if "git+" not in line]
    path = work / given.name
    path.write_text("\n".join(kept) + "\n")
    return path


def commands(tool: str, req: Path, out: Path, cache: Path, baseline: Path | None = None) -> list[str]:
    if tool in ("wheelwright", "baseline"):
        doit = (baseline if tool == "baseline" and baseline else ROOT) / "doit"
        return [str(doit), "lock", f"req={req}", f"out={out}", f"cache={cache}"]
    return uv_compile(req, out, cache) if tool == "uv" else pip_compile(req, out, cache)


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def measure_once(
    tool: str, req: Path, work: Path, env: dict[str, str], run: int, baseline: Path | None
) -> dict[str, Measured]:
    """One cold run (empty cache) then one warm run (its cache, no lock) of `tool`: (seconds, MB) each."""
    out = work / f"{tool}-{req.stem}.txt"
    cache = work / f"{tool}-{req.stem}-cache-{run}"
    found = {}
    for phase in PHASES:
        out.unlink(missing_ok=True)
        found[phase] = run_measured(commands(tool, req, out, cache, baseline), env)
    shutil.rmtree(cache, ignore_errors=True)
    return found


def measure(
    tools: list[str], req: Path, work: Path, env: dict[str, str], runs: int, baseline: Path | None
) -> dict[str, dict[str, Measured]]:
    """Medians (seconds, MB) per tool and phase, the tools taking turns run by run."""
    samples = take_turns(runs, tools, lambda tool, run: measure_once(tool, req, work, env, run, baseline))
    return measured_medians(samples)


def rows(name: str, medians: dict[str, dict[str, Measured]]) -> list[str]:
    uv = medians["uv"]
    found = []
    for tool, by_phase in medians.items():
        cells = [f"{by_phase[p][0]:.2f}s ({by_phase[p][0] / uv[p][0]:.2f}x)" for p in PHASES]
        memory = [f"{by_phase[p][1]:.0f} MB" for p in PHASES]
        found.append(f"| {name} | {tool} | " + " | ".join(cells + memory) + " |")
    return found


def differences(name: str, ours: Path, theirs: Path) -> list[str]:
    mine, uv = pins(ours), pins(theirs)
    return [
        f"{name}: {pkg}: wheelwright {mine.get(pkg)}, uv {uv.get(pkg)}"
        for pkg in sorted(set(mine) | set(uv))
        if mine.get(pkg) != uv.get(pkg)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["black", "trio", "requirements"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=["wheelwright", "uv", "pip-tools"])
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout's ./doit, run beside")
    parser.add_argument("--sets-dir", type=Path, default=SETS)
    args = parser.parse_args()
    tools = list(args.tools)
    if args.baseline is not None:
        tools.insert(1, "baseline")
    index = configured_index()
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index, "UV_INDEX_URL": index}
    for key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        env.pop(key, None)
    table, diffs = [], []
    work_root = ROOT / "bench" / ".work"
    work_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lock-", dir=work_root) as tmp:
        work = Path(tmp)
        for name in args.sets:
            req = input_file(name, args.sets_dir, work)
            baseline = args.baseline.resolve() if args.baseline else None
            medians = measure(tools, req, work, env, args.runs, baseline)
            table += rows(req.stem, medians)
            diffs += differences(req.stem, work / f"wheelwright-{req.stem}.txt", work / f"uv-{req.stem}.txt")
            print(f"{name}: done", file=sys.stderr)
    print(f"medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print("| set | tool | cold | warm relock | cold peak RSS | warm peak RSS |\n|---|---|---|---|---|---|")
    print("\n".join(table))
    print("\npins that differ from uv's:" if diffs else "\npins agree with uv's on every set")
    print("\n".join(diffs))


if __name__ == "__main__":
    main()
