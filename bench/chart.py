"""Draw bench/results.json as bench/results.svg: wheelwright, uv and pip side by side, one panel a benchmark.

Usage: .wheelwright/env/bin/python bench/chart.py [--results FILE] [--out FILE.svg|FILE.png]
       [--only SECTION ...]  (the README draws `--only scale --out bench/scale.svg`)
matplotlib comes from the benchmarks' own environment (bench/.tools, bench/requirements.txt): when
this Python lacks it, the script runs itself again with that environment's Python.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLOURS = {"wheelwright": "#2a6f97", "uv": "#de6b48", "pip": "#7a7a7a"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--out", type=Path, default=HERE / "results.svg")
    parser.add_argument(
        "--only", nargs="*", help="the sections to draw (e.g. scale), each a panel; default all"
    )
    args = parser.parse_args()
    try:
        import matplotlib
    except ImportError:  # not in the pipeline's environment, on purpose: use the benchmarks' own
        sys.path.insert(0, str(HERE.parent))
        from bench.tools import tool_env

        python = str(tool_env() / "bin" / "python")
        os.execv(python, [python, __file__, *sys.argv[1:]])
    matplotlib.use("Agg")
    results = json.loads(args.results.read_text())
    draw({k: v for k, v in results.items() if not args.only or k in args.only}, args.out)
    print(f"wrote {args.out}")


def draw(results: dict[str, Any], out: Path) -> None:
    import matplotlib.pyplot as plt

    sections = list(results.values())
    widths = [len(s["phases"]) for s in sections]
    figure, axes = plt.subplots(1, len(sections), figsize=(4.2 * len(sections), 3.6), width_ratios=widths)
    for ax, section in zip(axes if len(sections) > 1 else [axes], sections, strict=True):
        panel(ax, section)
    figure.tight_layout()
    figure.savefig(out, metadata={"Date": None} if out.suffix == ".svg" else None)


def panel(ax: Any, section: dict[str, Any]) -> None:
    if "pins" in section:
        scale_panel(ax, section)
        return
    bar_panel(ax, section)


MARKERS = ["o", "s", "^", "v", "D"]  # one a phase of the scale panel
STYLES = {"wheelwright": "-", "uv": "--", "pip": ":"}


def scale_panel(ax: Any, section: dict[str, Any]) -> None:
    """Seconds against pins, one line a tool and phase: the tool's colour and line, the phase's marker."""
    pins = section["pins"]
    for tool, by_phase in section["series"].items():
        for i, (phase, values) in enumerate(by_phase.items()):
            style = STYLES.get(tool, "-.")
            marker = MARKERS[i % len(MARKERS)]
            ax.plot(
                pins,
                values,
                style,
                color=COLOURS.get(tool),
                marker=marker,
                markersize=3,
                label=f"{tool} {phase}",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pins")
    ax.set_ylabel("seconds (median, log scale)")
    ax.set_title(f"{section['title']}\nmedians of {section['runs']} runs", fontsize=9)
    ax.legend(fontsize=5, frameon=False, ncol=len(section["series"]))


def bar_panel(ax: Any, section: dict[str, Any]) -> None:
    """Grouped bars, one group a phase, one bar a tool; log scale (pip's cold is 200x uv's no-op)."""
    phases, tools = section["phases"], list(section["seconds"])
    width = 0.8 / len(tools)
    for i, tool in enumerate(tools):
        xs = [p + (i - (len(tools) - 1) / 2) * width for p in range(len(phases))]
        values = [section["seconds"][tool][phase] for phase in phases]
        bars = ax.bar(xs, values, width, label=tool, color=COLOURS.get(tool))
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6, padding=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(phases)), phases)
    ax.set_ylabel("seconds (median, log scale)")
    ax.set_title(f"{section['title']}\nmedians of {section['runs']} runs", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(tools))


if __name__ == "__main__":
    main()
