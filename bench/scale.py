"""Benchmark (not a test): lock and sync time against the number of pins, wheelwright beside uv and pip.

Usage: .wheelwright/env/bin/python bench/scale.py [--pins 10 50 200 500] [--runs N] [--tools ...]
A synthetic index on loopback (so the curve measures the tools, not the network): N projects,
each in two versions (the resolver must pick the newer), each a small wheel of a few modules in a
package and a subpackage; project i requires project i+1, and the input names all N.
Phases per size: lock cold (empty cache) and warm (its cache, no previous lock); sync cold
(empty cache, new venv), warm (warm cache, new venv) and no-op (synced venv), every tool syncing
wheelwright's lock. pip locks with pip-compile (pip-tools, pinned in bench/requirements.txt) and
syncs with `pip install --no-deps -r` (the pip of a venv made with it). The tools take turns run by
run. Medians go to bench/results.json (section "scale", drawn by bench/chart.py as time against
pins) and a table with the cost per pin: the least-squares slope over every size, and the slope of
each step between sizes (a curve that bends upward has a last step steeper than the fit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import RESULTS  # noqa: E402
from bench.sync import new_venv  # noqa: E402
from bench.timing import medians, run_seconds, take_turns  # noqa: E402
from bench.tools import pip_compile, pip_install, uv_compile, uv_sync  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.wheels import make_wheel  # noqa: E402

PHASES = ["lock cold", "lock warm", "sync cold", "sync warm", "sync no-op"]
TOOLS = ["wheelwright", "uv", "pip"]


def make_index(house: Path, pins: int) -> list[str]:
    """Write the projects' wheels; the names the input lists."""
    names = [f"scale{i:04d}" for i in range(pins)]
    for i, name in enumerate(names):
        needs = [f"{names[i + 1]}>=1.0"] if i + 1 < pins else []
        for version in ("1.0", "1.1"):
            module = name.replace("-", "_")
            files = {f"{module}/__init__.py": f"VERSION = {version!r}\n"}
            files |= {f"{module}/m{j}.py": f"X = {j}\n" for j in range(4)}
            files[f"{module}/sub/__init__.py"] = "Y = 1\n"
            make_wheel(house, name, version, requires_dist=needs, files=files)
    return names


def lock_command(tool: str, req: Path, out: Path, cache: Path) -> list[str]:
    if tool == "wheelwright":
        return [str(ROOT / "doit"), "lock", f"req={req}", f"out={out}", f"cache={cache}"]
    if tool == "pip":
        return pip_compile(req, out, cache)
    return uv_compile(req, out, cache)


def sync_command(tool: str, lock: Path, venv: Path, cache: Path) -> list[str]:
    if tool == "wheelwright":
        return [str(ROOT / "doit"), "sync", f"req={lock}", f"venv={venv}", f"cache={cache}"]
    return pip_install(lock, venv, cache) if tool == "pip" else uv_sync(lock, venv, cache)


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    for key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "UV_INDEX_URL"):
        env.pop(key, None)
    return run_seconds(cmd, env)


def measure(tool: str, work: Path, req: Path) -> dict[str, float]:
    """One run of every phase for `tool`; every tool syncs the lock wheelwright wrote."""
    cache, out = work / f"{tool}-cache", work / f"{tool}-lock.txt"
    shutil.rmtree(cache, ignore_errors=True)
    out.unlink(missing_ok=True)
    times = {"lock cold": timed(lock_command(tool, req, out, cache))}
    out.unlink()
    times["lock warm"] = timed(lock_command(tool, req, out, cache))
    lock = work / "wheelwright-lock.txt"
    shutil.rmtree(cache, ignore_errors=True)
    venv = work / f"{tool}-venv"
    new_venv(venv, with_pip=tool == "pip")
    times["sync cold"] = timed(sync_command(tool, lock, venv, cache))
    new_venv(venv, with_pip=tool == "pip")
    times["sync warm"] = timed(sync_command(tool, lock, venv, cache))
    times["sync no-op"] = timed(sync_command(tool, lock, venv, cache))
    shutil.rmtree(cache, ignore_errors=True)
    return times


def run_size(pins: int, runs: int, work_root: Path, tools: list[str]) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix=f"scale-{pins}-", dir=work_root) as tmp:
        work = Path(tmp)
        house = work / "house"
        names = make_index(house, pins)
        req = work / "input.in"
        with IndexServer(house) as server:
            req.write_text("\n".join([f"--index-url {server.url}", *names]) + "\n")
            samples = take_turns(  # wheelwright first: its lock is the one every tool syncs
                runs,
                tools,
                lambda tool, _run: measure(tool, work, req),
                lambda _run, got: print(
                    f"{pins} pins, a run: {json.dumps(got)}", file=sys.stderr, flush=True
                ),
            )
        return medians(samples)


def fitted_slope(sizes: list[int], values: list[float]) -> float:
    """Seconds a pin: the least-squares slope of time against pins."""
    if len(sizes) < 2:
        return values[0] / sizes[0]
    mean_n, mean_t = statistics.fmean(sizes), statistics.fmean(values)
    spread = sum((n - mean_n) ** 2 for n in sizes)
    return sum((n - mean_n) * (t - mean_t) for n, t in zip(sizes, values, strict=True)) / spread


def steps(sizes: list[int], values: list[float]) -> list[float]:
    """Seconds a pin between each size and the next."""
    return [(values[i + 1] - values[i]) / (sizes[i + 1] - sizes[i]) for i in range(len(sizes) - 1)]


def table(sizes: list[int], series: dict[str, dict[str, list[float]]]) -> str:
    head = " | ".join(f"{n} pins" for n in sizes)
    lines = [f"| phase | tool | {head} | per pin (fit) | per pin, each step |"]
    lines.append("|---|---|" + "---|" * (len(sizes) + 2))
    tools = list(series)
    for phase in PHASES:
        for tool in tools:
            values = series[tool][phase]
            ratios = [v / u for v, u in zip(values, series["uv"][phase], strict=True)]
            cells = [f"{v:.2f}s ({r:.2f}x)" for v, r in zip(values, ratios, strict=True)]
            per_step = ", ".join(f"{step * 1000:.1f}" for step in steps(sizes, values))
            fit = f"{fitted_slope(sizes, values) * 1000:.2f} ms"
            lines.append(f"| {phase} | {tool} | " + " | ".join(cells) + f" | {fit} | {per_step} ms |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, nargs="*", default=[10, 50, 200, 500])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=TOOLS, help="wheelwright and uv always; pip if named")
    args = parser.parse_args()
    tools = ["wheelwright", "uv", *[t for t in args.tools if t not in ("wheelwright", "uv")]]
    work_root = ROOT / "bench" / ".work"
    work_root.mkdir(exist_ok=True)
    series: dict[str, dict[str, list[float]]] = {t: {p: [] for p in PHASES} for t in tools}
    for pins in args.pins:
        medians = run_size(pins, args.runs, work_root, tools)
        print(f"{pins} pins: {json.dumps(medians)}", file=sys.stderr, flush=True)
        for tool in tools:
            for phase in PHASES:
                series[tool][phase].append(medians[tool][phase])
    print(f"synthetic loopback index, medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print(table(args.pins, series))
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["scale"] = {
        "title": "time against pins (bench/scale.py)",
        "phases": PHASES,
        "pins": args.pins,
        "runs": args.runs,
        "python": sys.version.split()[0],
        "series": {t: {p: [round(v, 3) for v in vs] for p, vs in by.items()} for t, by in series.items()},
    }
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
