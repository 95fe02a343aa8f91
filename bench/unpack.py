"""Benchmark (not a test): unpacking one wheel into the cache, time and peak memory, beside uv.

Usage: .wheelwright/env/bin/python bench/unpack.py [--runs N] [--baseline CHECKOUT] [--member-mb 60]
Two wheels made here: one with a single large member (`--member-mb`, half random bytes and half
zeros, so it deflates about as a shared object does) and one of 3000 small modules (a normal
wheel). wheelwright: a fresh Python process runs `tasks.wheels.unpacked.unpack_wheel` (the checks
against RECORD included) into an empty entry; `--baseline` does the same with another checkout's
`tasks` (the code before a change). uv: `uv pip install --no-deps --no-index --target` with an
empty cache (it unpacks into its cache, then links into the target). The tools take turns run by
run; medians of the seconds and of the peak RSS (`wait4`), interpreter start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import Measured, measured_medians, run_measured, take_turns  # noqa: E402
from bench.tools import tool_env  # noqa: E402
from tests.support.wheels import make_wheel  # noqa: E402

UNPACK = """
import sys
from pathlib import Path
from tasks.wheels.unpacked import unpack_wheel
wheel = Path(sys.argv[1])
unpack_wheel(wheel, Path(sys.argv[2]), package=wheel.name.split("-")[0], filename=wheel.name)
"""


MAKE = """
import json, sys
from pathlib import Path
from bench.unpack import make_wheels
print(json.dumps({k: str(v) for k, v in make_wheels(Path(sys.argv[1]), int(sys.argv[2])).items()}))
"""


def large_member(size: int) -> bytes:
    """Blocks of 64 KB, random and zeros in turn (deflates to about half)."""
    rng, block = random.Random(0), 1 << 16
    return b"".join(rng.randbytes(block) if i % 2 else bytes(block) for i in range(size // block))


def make_wheels(house: Path, member_mb: int) -> dict[str, Path]:
    """The wheel with one large member, and the one of many small files."""
    big = make_wheel(house, "bigmember", "1.0", files={"bigmember/lib.so": large_member(member_mb << 20)})
    rng = random.Random(1)
    files = {
        f"many/p{i // 100:02d}/m{i:04d}.py": "".join(
            f"X_{j} = {rng.random()!r}\n" for j in range(rng.randint(20, 200))
        )
        for i in range(3000)
    }
    many = make_wheel(house, "many", "1.0", files=files)
    return {f"{member_mb} MB member": big, "3000 small files": many}


def made_apart(house: Path, member_mb: int) -> dict[str, Path]:
    """`make_wheels` in another process: a child's peak RSS (`wait4`) is at least this process's peak
    (bench/timing.py), so this one never holds the large member."""
    args = [sys.executable, "-c", MAKE, str(house), str(member_mb)]
    done = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True)
    return {phase: Path(path) for phase, path in json.loads(done.stdout).items()}


def command(
    tool: str, wheel: Path, target: Path, cache: Path, baseline: Path | None
) -> tuple[list[str], Path]:
    """The command that unpacks `wheel`, and the directory it runs in."""
    if tool == "uv":
        uv = str(tool_env() / "bin" / "uv")
        args = ["pip", "install", "-q", "--no-deps", "--no-index", "--cache-dir", str(cache)]
        return [uv, *args, "--python", sys.executable, "--target", str(target), str(wheel)], ROOT
    checkout = baseline if tool == "baseline" and baseline else ROOT
    return [sys.executable, "-P", "-c", UNPACK, str(wheel), str(target / "entry")], checkout


def once(tool: str, wheels: dict[str, Path], work: Path, baseline: Path | None) -> dict[str, Measured]:
    found = {}
    for phase, wheel in wheels.items():
        target, cache = work / f"{tool}-target", work / f"{tool}-cache"
        cmd, checkout = command(tool, wheel, target, cache, baseline)
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        found[phase] = run_measured(cmd, env)
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
    return found


def table(results: dict[str, dict[str, Measured]], phases: list[str]) -> str:
    lines = ["| wheel | tool | time | peak RSS |", "|---|---|---|---|"]
    for phase in phases:
        uv = results["uv"][phase]
        for tool, by in results.items():
            got = by[phase]
            cells = f"{got.seconds:.2f}s ({got.seconds / uv.seconds:.2f}x) | {got.peak_mb:.0f} MB"
            lines.append(f"| {phase} | {tool} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout whose tasks/ unpack beside")
    parser.add_argument("--member-mb", type=int, default=60)
    args = parser.parse_args()
    baseline = args.baseline.resolve() if args.baseline else None
    tools = ["wheelwright", *(["baseline"] if baseline else []), "uv"]
    (ROOT / "bench" / ".work").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unpack-", dir=ROOT / "bench" / ".work") as tmp:
        work = Path(tmp)
        wheels = made_apart(work / "house", args.member_mb)
        samples = take_turns(
            args.runs,
            tools,
            lambda tool, _run: once(tool, wheels, work, baseline),
            lambda run, got: print(f"run {run + 1}: {got}", file=sys.stderr, flush=True),
        )
    print(f"unpacking one wheel, medians of {args.runs} runs, Python {sys.version.split()[0]}\n")
    print(table(measured_medians(samples), list(wheels)))


if __name__ == "__main__":
    main()
