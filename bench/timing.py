"""The benchmarks' one timing loop: a command run and measured, tools taking turns run by run, medians.

`run_measured` runs one command to its end: wall-clock seconds from its start to its reaping, and
its peak memory as the kernel accounts it (`wait4`'s ru_maxrss: the process and the children it
waited for; `./doit` execs Python, so the process is the tool's). That peak is never below this
process's own peak: the child starts on its memory (vfork, then exec keeps the high-water mark),
so a benchmark keeps large data out of the process that runs the tools (about 22 MB for lock and
sync, which import the project's configuration reader). A command that fails ends the
benchmark with the tail of its output. `take_turns` runs every tool once per run, in order, so a
change in the machine's load between runs moves every tool's figures alike, not one tool's block of
runs. `medians` and `measured_medians` reduce the samples to one figure per tool and phase.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, TypeVar

T = TypeVar("T")
Samples = dict[str, dict[str, list[T]]]  # tool → phase → one value a run


class Measured(NamedTuple):
    seconds: float
    peak_mb: float  # peak RSS


def run_measured(cmd: list[str], env: Mapping[str, str] | None = None) -> Measured:
    """Seconds and peak RSS (MB) of one run of `cmd`; SystemExit with its output's tail if it fails."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            out.seek(0)
            raise SystemExit(f"failed: {' '.join(cmd)}\n{out.read().decode(errors='replace')[-4000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024)


def run_seconds(cmd: list[str], env: Mapping[str, str] | None = None) -> float:
    """Seconds of one run of `cmd` (`run_measured` without the memory)."""
    return run_measured(cmd, env).seconds


def take_turns(
    runs: int,
    tools: Iterable[str],
    once: Callable[[str, int], Mapping[str, T]],
    after_run: Callable[[int, Samples[T]], None] | None = None,
) -> Samples[T]:
    """`once(tool, run)` (phase → value) for every tool in order, `runs` times; every run's values.

    `after_run(run, samples)` is called after each run (a progress line)."""
    order = list(tools)
    samples: Samples[T] = {}
    for run in range(runs):
        for tool in order:
            for phase, value in once(tool, run).items():
                samples.setdefault(tool, {}).setdefault(phase, []).append(value)
        if after_run is not None:
            after_run(run, samples)
    return samples


def medians(samples: Samples[float]) -> dict[str, dict[str, float]]:
    return {tool: {phase: statistics.median(v) for phase, v in by.items()} for tool, by in samples.items()}


def measured_medians(samples: Samples[Measured]) -> dict[str, dict[str, Measured]]:
    """The median of the seconds and, apart, the median of the peaks."""
    return {
        tool: {
            phase: Measured(statistics.median(s for s, _ in v), statistics.median(m for _, m in v))
            for phase, v in by.items()
        }
        for tool, by in samples.items()
    }
