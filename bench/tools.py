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


def uv_sync(lock: Path, venv: Path, cache: Path, *extra: str) -> list[str]:
    """`uv pip sync` of `lock` into `venv` with its own cache."""
    python = str(venv / "bin" / "python")
    uv = str(tool_env() / "bin" / "uv")
    return [uv, "pip", "sync", "-q", "--cache-dir", str(cache), "--python", python, *extra, str(lock)]


def pip_install(lock: Path, venv: Path, cache: Path) -> list[str]:
    """`pip install --no-deps -r lock` with the pip of `venv` (made with pip) and its own cache."""
    pip = str(venv / "bin" / "pip")
    quiet = ["-q", "--no-deps", "--disable-pip-version-check"]
    return [pip, "install", *quiet, "--cache-dir", str(cache), "-r", str(lock)]


def pip_compile(req: Path, out: Path, cache: Path) -> list[str]:
    """pip-tools' `pip-compile` of `req` into `out`, with hashes, with its own cache."""
    compile_ = str(tool_env() / "bin" / "pip-compile")
    return [compile_, "-q", "--cache-dir", str(cache), "--generate-hashes", "-o", str(out), str(req)]


def uv_compile(req: Path, out: Path, cache: Path) -> list[str]:
    """`uv pip compile` of `req` into `out` for this Python, with hashes, with its own cache."""
    common = ["--cache-dir", str(cache), "--python", sys.executable, "--generate-hashes"]
    return [str(tool_env() / "bin" / "uv"), "pip", "compile", "-q", *common, "-o", str(out), str(req)]
