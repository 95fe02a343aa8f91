"""Benchmark (not a test): `./doit sync` beside `uv pip sync` and `pip install --no-deps`.

Usage: .wheelwright/env/bin/python bench/sync.py [--requirements FILE] [--runs N] [--only TOOL ...]
       [--baseline CHECKOUT]  (another checkout's ./doit beside, e.g. the code before a change)
Every tool gets the same single index: the one pip's configuration names (PIP_INDEX_URL,
pip.conf), else pip's default. Cold: empty cache, new venv. Warm: warm cache, new venv.
No-op: the venv already synced. Prints medians and ratios to uv as a markdown table, and each
phase's peak memory (RSS of the tool's process, median).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.timing import Measured, measured_medians, run_measured, take_turns  # noqa: E402
from bench.tools import tool_env  # noqa: E402

# ../shared beside the checkout, or ../../shared from a worktree (/work/wt/NAME)
SHARED = (
    next((p for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()), ROOT.parent) / "shared"
)
DEFAULT_REQS = SHARED / "bench-requirements" / "requirements-large.txt"


def configured_index() -> str:
    """The one index every tool is given: pip's configured index, else pip's default."""
    from tasks.inputs.config import effective_indexes, pip_index_options

    return effective_indexes([pip_index_options()]).urls[0]


def new_venv(path: Path, with_pip: bool = False) -> None:
    shutil.rmtree(path, ignore_errors=True)
    args = [sys.executable, "-m", "venv", str(path)]
    subprocess.run(args if with_pip else [*args, "--without-pip"], check=True)


class Tool:
    def __init__(self, name: str, sync: Callable[[Path, Path], list[str]], with_pip: bool = False):
        self.name, self.sync, self.with_pip = name, sync, with_pip


def tools(reqs: Path) -> list[Tool]:
    uv = str(Path(tool_env()) / "bin" / "uv")
    return [
        Tool(
            "wheelwright",
            lambda venv, cache: [str(ROOT / "doit"), "sync", f"req={reqs}", f"venv={venv}", f"cache={cache}"],
        ),
        Tool(
            "uv",
            lambda venv, cache: [
                uv,
                "pip",
                "sync",
                "--cache-dir",
                str(cache),
                "--python",
                str(venv / "bin" / "python"),
                str(reqs),
            ],
        ),
        Tool(
            "pip",
            lambda venv, cache: [
                str(venv / "bin" / "pip"),
                "install",
                "--no-deps",
                "--cache-dir",
                str(cache),
                "-r",
                str(reqs),
            ],
            with_pip=True,
        ),
    ]


def baseline_tool(checkout: Path, reqs: Path) -> Tool:
    """wheelwright from another checkout (the code before a change), measured in the same turns."""
    doit = str(checkout / "doit")
    words = ["sync", f"req={reqs}"]
    return Tool("baseline", lambda venv, cache: [doit, *words, f"venv={venv}", f"cache={cache}"])


Phases = dict[str, Measured]  # phase → (seconds, peak RSS in MB)


def measure_once(tool: Tool, work: Path, env: dict[str, str]) -> Phases:
    """One run of each phase: cold, then warm (new venv), then no-op."""
    cache, venv = work / f"{tool.name}-cache", work / f"{tool.name}-venv"
    shutil.rmtree(cache, ignore_errors=True)
    new_venv(venv, tool.with_pip)
    times = {"cold": run_measured(tool.sync(venv, cache), env)}
    new_venv(venv, tool.with_pip)
    times["warm"] = run_measured(tool.sync(venv, cache), env)
    times["no-op"] = run_measured(tool.sync(venv, cache), env)
    return times


def measure(chosen: list[Tool], work: Path, env: dict[str, str], runs: int) -> dict[str, Phases]:
    """Medians per tool and phase, the tools taking turns run by run (bench/timing.py)."""
    by_name = {tool.name: tool for tool in chosen}
    samples = take_turns(runs, by_name, lambda name, _run: measure_once(by_name[name], work, env))
    return measured_medians(samples)


def table(results: dict[str, Phases]) -> str:
    phases = ("cold", "warm", "no-op")
    lines = [
        "| tool | cold | warm | no-op | peak RSS cold / warm / no-op |",
        "|---|---|---|---|---|",
    ]
    uv = results["uv"]
    for name, by in results.items():
        cells = [f"{by[p][0]:.2f}s ({by[p][0] / uv[p][0]:.2f}x)" for p in phases]
        memory = " / ".join(f"{by[p][1]:.0f}" for p in phases) + " MB"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {memory} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=DEFAULT_REQS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout whose ./doit runs beside (before/after)"
    )
    args = parser.parse_args()
    index = configured_index()
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index, "UV_INDEX_URL": index}
    env.pop("PIP_FIND_LINKS", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    work = ROOT / "bench" / ".work"  # on the project's disk: /tmp may be another file system
    work.mkdir(exist_ok=True)
    chosen = [t for t in tools(args.requirements.resolve()) if not args.only or t.name in args.only]
    if args.baseline is not None:
        chosen.insert(1, baseline_tool(args.baseline.resolve(), args.requirements.resolve()))
    with tempfile.TemporaryDirectory(prefix="sync-", dir=work) as tmp:
        results = measure(chosen, Path(tmp), env, args.runs)
    for name, phases in results.items():
        print(f"{name}: {phases}", file=sys.stderr)
    seconds = {name: {p: got[0] for p, got in phases.items()} for name, phases in results.items()}
    print(f"{args.requirements.name}, medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print(table(results) if "uv" in results else results)
    if not args.only and args.baseline is None:
        record(
            "sync",
            f"{len(args.requirements.read_text().splitlines())} pins, {args.requirements.name}",
            ["cold", "warm", "no-op"],
            seconds,
            args.runs,
        )


if __name__ == "__main__":
    main()
