"""Benchmark (not a test): uv's own benchmark set, trio's docs requirements, wheelwright beside uv and pip.

Usage: .wheelwright/env/bin/python bench/trio.py [--runs N] [--input FILE.in] [--tools ...]
The four benchmarks uv publishes (its BENCHMARKS.md), on the same input
(../shared/bench-requirements/trio.in), so our figures read against its charts:
- resolve cold: lock the input with an empty cache;
- resolve warm: lock it again with that cache, no previous lock (a full re-resolution);
- install cold: sync the lock into a new venv with an empty cache;
- install warm: sync it into a new venv with the cache of the cold install.
wheelwright runs `./doit lock` and `./doit sync`, uv `uv pip compile` and `uv pip sync`, pip
`pip-compile` (pip-tools) and `pip install --no-deps -r` (the pip of a venv made with it). Every
tool installs the lock wheelwright wrote in the same run, from the same single index (pip's
configured one), with the same Python. The tools take turns run by run; medians go to
bench/results.json (section "trio") and a table with the ratio to uv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lock import SETS, commands, input_file  # noqa: E402
from bench.results import record  # noqa: E402
from bench.sync import configured_index, new_venv  # noqa: E402
from bench.timing import medians, run_seconds, take_turns  # noqa: E402
from bench.tools import pip_install, uv_sync  # noqa: E402

PHASES = ["install cold", "install warm", "resolve cold", "resolve warm"]
TOOLS = ["wheelwright", "uv", "pip"]


def install_command(tool: str, lock: Path, venv: Path, cache: Path) -> list[str]:
    if tool == "wheelwright":
        return [str(ROOT / "doit"), "sync", f"req={lock}", f"venv={venv}", f"cache={cache}"]
    return uv_sync(lock, venv, cache) if tool == "uv" else pip_install(lock, venv, cache)


def resolve(tool: str, req: Path, work: Path, env: dict[str, str]) -> tuple[dict[str, float], Path]:
    """Resolve cold, then warm; the lock written."""
    cache, out = work / f"{tool}-resolve-cache", work / f"{tool}-lock.txt"
    shutil.rmtree(cache, ignore_errors=True)
    out.unlink(missing_ok=True)
    name = "pip-tools" if tool == "pip" else tool  # bench/lock.py's name for pip-compile
    times = {"resolve cold": run_seconds(commands(name, req, out, cache), env)}
    out.unlink()
    times["resolve warm"] = run_seconds(commands(name, req, out, cache), env)
    shutil.rmtree(cache, ignore_errors=True)
    return times, out


def install(tool: str, lock: Path, work: Path, env: dict[str, str]) -> dict[str, float]:
    """Install cold (empty cache, new venv), then warm (that cache, a new venv)."""
    cache, venv = work / f"{tool}-install-cache", work / f"{tool}-venv"
    shutil.rmtree(cache, ignore_errors=True)
    new_venv(venv, with_pip=tool == "pip")
    times = {"install cold": run_seconds(install_command(tool, lock, venv, cache), env)}
    new_venv(venv, with_pip=tool == "pip")
    times["install warm"] = run_seconds(install_command(tool, lock, venv, cache), env)
    shutil.rmtree(cache, ignore_errors=True)
    return times


def measure(
    tools: list[str], req: Path, work: Path, env: dict[str, str], runs: int
) -> dict[str, dict[str, float]]:
    locks: dict[int, Path] = {}  # run → the lock every tool installs in that run

    def once(tool: str, run: int) -> dict[str, float]:
        times, out = resolve(tool, req, work, env)
        lock = locks.setdefault(run, out)  # wheelwright first: its lock is the one every tool installs
        return times | install(tool, lock, work, env)

    samples = take_turns(
        runs, tools, once, lambda run, got: print(f"run {run + 1}: {got}", file=sys.stderr, flush=True)
    )
    return medians(samples)


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| tool | " + " | ".join(PHASES) + " |", "|---|" + "---|" * len(PHASES)]
    for tool, by in results.items():
        cells = [f"{by[p]:.2f}s ({by[p] / results['uv'][p]:.2f}x)" for p in PHASES]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--input", default=str(SETS / "trio.in"))
    parser.add_argument("--tools", nargs="*", default=TOOLS, help="wheelwright and uv always; pip if named")
    args = parser.parse_args()
    tools = ["wheelwright", "uv", *[t for t in args.tools if t not in ("wheelwright", "uv")]]
    index = configured_index()
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index, "UV_INDEX_URL": index}
    for key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        env.pop(key, None)
    work_root = ROOT / "bench" / ".work"
    work_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trio-", dir=work_root) as tmp:
        work = Path(tmp)
        req = input_file(args.input, SETS, work)
        results = measure(tools, req, work, env, args.runs)
        pins = sum(1 for line in (work / "wheelwright-lock.txt").read_text().splitlines() if "==" in line)
    print(f"{req.name} ({pins} pins), medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print(table(results))
    record("trio", f"trio's docs requirements, {pins} pins (uv's benchmark set)", PHASES, results, args.runs)


if __name__ == "__main__":
    main()
