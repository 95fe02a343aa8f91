"""The benchmarks' results file, bench/results.json: one section per benchmark, medians in seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def record(
    section: str, title: str, phases: list[str], medians: dict[str, dict[str, float]], runs: int
) -> None:
    """Replace `section` of bench/results.json with these medians (bench/chart.py draws them)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[section] = {
        "title": title,
        "phases": phases,
        "runs": runs,
        "python": sys.version.split()[0],
        "seconds": {tool: {p: round(by_phase[p], 3) for p in phases} for tool, by_phase in medians.items()},
    }
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
