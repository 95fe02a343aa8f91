"""Benchmark (not a test): what making the event kinds costs at import, as they are and as dataclasses.

Usage: .wheelwright/env/bin/python bench/event_kinds.py [--runs N]
Every run imports `tasks/core/eventkinds.py` (the console matches on its kinds), the no-op too. This
runs the module's code with `tasks/core/record.py`'s (compiled once, so reading and unmarshalling are
left out) N times in fresh modules, interleaved with the kinds' code where each kind is a
`@dataclass(frozen=True)`, and prints the median of each. No uv beside it: nothing of uv's
corresponds to this.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KINDS = ROOT / "tasks" / "core" / "eventkinds.py"
RECORD = ROOT / "tasks" / "core" / "record.py"


def as_dataclasses(source: str) -> str:
    """The same module with `@dataclass(frozen=True)` on each record (the bases keep their own methods)."""
    kinds = r"\n\nclass (\w+)\((Event|Record)\):"
    made = re.sub(kinds, r"\n\n@dataclass(frozen=True)\nclass \1(\2):", source)
    future = "from __future__ import annotations\n"
    return made.replace(future, future + "from dataclasses import dataclass\n", 1)


def run_once(codes: list[Any], n: int) -> float:
    """Seconds to run each of `codes` in a fresh module."""
    took = 0.0
    for i, code in enumerate(codes):
        module = types.ModuleType(f"_kinds_{n}_{i}")
        sys.modules[module.__name__] = module  # dataclasses looks its module up
        started = time.perf_counter()
        exec(code, module.__dict__)
        took += time.perf_counter() - started
        del sys.modules[module.__name__]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    runs = parser.parse_args().runs
    source = KINDS.read_text()
    shapes = {"as written": source, "as dataclasses": as_dataclasses(source)}
    record = compile(RECORD.read_text(), str(RECORD), "exec")
    codes = {
        "as written": [record, compile(source, str(KINDS), "exec")],
        "as dataclasses": [compile(shapes["as dataclasses"], str(KINDS), "exec")],
    }
    took: dict[str, list[float]] = {name: [] for name in codes}
    for n in range(runs):
        for name, code in codes.items():
            took[name].append(run_once(code, len(codes) * n + len(took[name])))
    for name, times in took.items():
        records = shapes[name].count("(Event):") + shapes[name].count("(Record):")
        median = statistics.median(times) * 1000
        print(f"{name:>15}: {median:6.2f} ms for {records} records (median of {runs})")


if __name__ == "__main__":
    main()
