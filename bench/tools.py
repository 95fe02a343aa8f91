"""The benchmarks' own tools, pinned in bench/requirements.txt, in bench/.tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / ".tools"
REQUIREMENTS = ROOT / "bench" / "requirements.txt"


def tool_env() -> Path:
    """bench/.tools with the pinned tools; installed on first use and again when the pins change.

    The environment is added to, never cleared, so a benchmark running beside keeps its tools.
    """
    stamp = TOOLS / ".pins"
    pins = REQUIREMENTS.read_text()
    if stamp.exists() and stamp.read_text() == pins:
        return TOOLS
    if not (TOOLS / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
    pip = [
        str(TOOLS / "bin" / "pip"),
        "install",
        "-q",
        "--disable-pip-version-check",
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(pip, check=True, capture_output=True)
    stamp.write_text(pins)
    return TOOLS
