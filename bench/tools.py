"""The comparison tools (uv, pip-tools), pinned, in their own environment under bench/.tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / ".tools"
PINS = ["uv==0.13.9", "pip-tools==7.6.2"]


def tool_env() -> Path:
    """Create bench/.tools with the pinned tools on first use; its path."""
    stamp = TOOLS / ".pins"
    if stamp.exists() and stamp.read_text() == "\n".join(PINS):
        return TOOLS
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(TOOLS)], check=True)
    subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", *PINS], check=True, capture_output=True)
    stamp.write_text("\n".join(PINS))
    return TOOLS
